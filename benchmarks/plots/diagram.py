"""The README's picture: two questions through one shared encoder, cosine, threshold τ."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

BLUE, GREY, GREEN = "#dbeafe", "#f3f4f6", "#dcfce7"


def box(ax, x: float, y: float, w: float, h: float, text: str, colour: str, size: float = 10) -> None:
    ax.add_patch(
        FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=colour, ec="#374151")
    )
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size)


def arrow(ax, start: tuple[float, float], end: tuple[float, float]) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=14, color="#374151", lw=1.3))


def draw(out: Path) -> Path:
    fig = Figure(figsize=(9.5, 3.4), dpi=110)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 3.6)
    ax.axis("off")
    for y, question in ((2.4, '"How do I learn Python?"'), (0.4, '"What is the best way\nto learn Python?"')):
        box(ax, 0.1, y, 2.3, 0.8, question, GREY, 9.5)
        arrow(ax, (2.45, y + 0.4), (3.05, y + 0.4))
        box(ax, 3.1, y, 2.5, 0.8, "encoder\ntokens → BiLSTM → mean", BLUE, 9.5)
        arrow(ax, (5.65, y + 0.4), (6.25, 1.8 if y > 1 else 1.4))
    ax.text(
        4.35, 1.6, "shared weights", ha="center", va="center", fontsize=9, style="italic", color="#1d4ed8"
    )
    box(ax, 6.3, 1.15, 1.5, 0.9, "cosine of the\nunit vectors\n= 0.988", GREY, 9.5)
    arrow(ax, (7.85, 1.6), (8.3, 1.6))
    box(ax, 8.35, 1.15, 1.55, 0.9, "> τ = 0.856\nduplicate", GREEN, 10)
    fig.savefig(out, dpi=110, format="png")
    return out
