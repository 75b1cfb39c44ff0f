"""DET plots (false rejects against false accepts, on normal-deviate axes) of protocol scores."""

from __future__ import annotations

from pathlib import Path
from statistics import NormalDist

import numpy as np

from siamdup.signatures.evaluation import ProtocolScores

PROBIT = np.vectorize(NormalDist().inv_cdf)  # DET axes: rates on the normal-deviate scale
TICKS = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4]


def det_plot(results: dict[str, ProtocolScores], path: str | Path) -> None:
    """One DET curve per verifier and forgery kind, the EER marked in the legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import det_curve

    fig, ax = plt.subplots(figsize=(6, 5))
    for colour, (name, scores) in enumerate(results.items()):
        figures = scores.figures()
        for kind, impostor, style in (("skilled", scores.skilled, "-"), ("random", scores.random, "--")):
            labels = np.concatenate([np.ones(len(scores.genuine)), np.zeros(len(impostor))])
            fpr, fnr, _ = det_curve(labels, np.concatenate([scores.genuine, impostor]))
            clip = lambda v: PROBIT(np.clip(v, 1e-4, 1 - 1e-4))  # noqa: E731
            eer = figures[f"{kind}_eer"]
            ax.plot(
                clip(fpr),
                clip(fnr),
                style,
                color=f"C{colour}",
                label=f"{name}, {kind} forgeries (EER {eer:.1%})",
            )
    ticks = PROBIT(TICKS)
    ax.set_xticks(ticks, [f"{t:.1%}" for t in TICKS])
    ax.set_yticks(ticks, [f"{t:.1%}" for t in TICKS])
    ax.set_xlim(ticks[0], ticks[-1])
    ax.set_ylim(ticks[0], ticks[-1])
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("false reject rate")
    ax.set_title("SVC2004 protocol: DET")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
