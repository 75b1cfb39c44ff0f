"""One look for every plot of the docs: size, resolution, fonts and the colour of each kind of model."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

FIGSIZE = (7.5, 4.6)
DPI = 110
COLOURS = {"siamdup": "#1f6feb", "peer": "#d1242f", "baseline": "#8c959f"}


def new_axes(title: str, xlabel: str, ylabel: str):
    """A figure (no pyplot state, so it is safe in any process) and its one set of axes."""
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    ax = fig.add_subplot()
    ax.set_title(title, fontsize=12)
    ax.set_xlabel(xlabel, fontsize=10)
    ax.set_ylabel(ylabel, fontsize=10)
    ax.grid(True, alpha=0.3)
    return fig, ax


def save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, format="png")
    return path
