"""Evaluation metrics for duplicate-question detection.

Pure functions over numpy arrays: gold labels (0/1) and similarity scores (cosine, nominally in
[-1, 1]) of question pairs. A pair is predicted duplicate iff ``score > threshold`` (strictly greater).

Plotting uses :class:`matplotlib.figure.Figure` with the Agg canvas directly, so importing or
calling anything here never imports :mod:`matplotlib.pyplot` or changes global backend state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "DPI",
    "FIGSIZE",
    "METRICS",
    "best_threshold",
    "pair_metrics",
    "plot_roc",
    "plot_similarity_histograms",
    "threshold_report",
]

#: Metrics :func:`best_threshold` can maximise.
METRICS = ("accuracy", "f1")
#: Size (inches) and resolution of the PNG figures: images are ``FIGSIZE * DPI`` pixels.
FIGSIZE = (6.0, 5.0)
DPI = 100

_DEFAULT_THRESHOLD = 0.7
_PLAIN_KEYS = ("threshold", "accuracy", "precision", "recall", "f1")


# -------------------- validation --------------------


def _validate(labels: Any, scores: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check and convert inputs: returns (labels as int64 0/1, scores as float64)."""
    labels = np.asarray(labels)
    scores = np.asarray(scores)
    if labels.ndim != 1 or scores.ndim != 1:
        raise ValueError(
            f"labels and scores must be 1-D arrays, got shapes {labels.shape} and {scores.shape}"
        )
    if labels.shape[0] != scores.shape[0]:
        raise ValueError(
            f"labels and scores must have the same length, got {labels.shape[0]} and {scores.shape[0]}"
        )
    if labels.shape[0] == 0:
        raise ValueError("labels and scores must be non-empty")
    if labels.dtype.kind not in "biuf":
        raise ValueError(f"labels must be numeric 0/1 values, got dtype {labels.dtype}")
    if not np.isin(labels, (0, 1)).all():
        bad = np.unique(labels[~np.isin(labels, (0, 1))])[:5]
        raise ValueError(f"labels must contain only 0 and 1, found e.g. {bad.tolist()}")
    if scores.dtype.kind not in "biuf":
        raise ValueError(f"scores must be real numbers, got dtype {scores.dtype}")
    scores = scores.astype(np.float64, copy=False)
    if not np.isfinite(scores).all():
        n_bad = int((~np.isfinite(scores)).sum())
        raise ValueError(f"scores must be finite, found {n_bad} NaN/inf value(s)")
    return labels.astype(np.int64, copy=False), scores


def _validate_threshold(threshold: Any) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a real number, got {threshold!r}") from None
    if np.isnan(t):
        raise ValueError("threshold must not be NaN")
    return t


# -------------------- thresholds --------------------


def best_threshold(labels: np.ndarray, scores: np.ndarray, metric: str = "accuracy") -> tuple[float, float]:
    """Threshold maximising `metric` ("accuracy" or "f1") on this data, and the metric value there.

    Candidate thresholds: midpoints between consecutive distinct sorted scores, plus just below the
    minimum ("all duplicate") and the maximum itself ("none duplicate", since the rule is
    ``score > threshold``). Vectorised with one sort and cumulative sums: O(n log n). Ties: the first
    (smallest) threshold reaching the maximum. F1 with no true/predicted positives counts as 0.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    y, s = _validate(labels, scores)
    n = s.shape[0]

    order = np.argsort(s, kind="stable")
    s_sorted = s[order]
    y_sorted = y[order]

    # Start index of each group of equal scores in the sorted array.
    starts = np.flatnonzero(np.concatenate(([True], s_sorted[1:] != s_sorted[:-1])))
    distinct = s_sorted[starts]
    # Candidate k (k = 0..m) predicts duplicate exactly for scores >= distinct[k] (none when k = m).
    cum_pos = np.concatenate(([0], np.cumsum(y_sorted)))
    below = np.concatenate((starts, [n]))  # number of scores strictly below distinct[k]
    pos_below = cum_pos[below]
    neg_below = below - pos_below
    n_pos = int(cum_pos[-1])
    n_neg = n - n_pos

    tp = n_pos - pos_below
    fp = n_neg - neg_below
    fn = pos_below
    tn = neg_below
    if metric == "accuracy":
        values = (tp + tn) / n
    else:
        denom = 2 * tp + fp + fn
        values = np.divide(2 * tp, denom, out=np.zeros(denom.shape, dtype=np.float64), where=denom > 0)

    # Candidate threshold values, ascending.
    lo, hi = distinct[:-1], distinct[1:]
    mids = 0.5 * lo + 0.5 * hi
    # For adjacent floats the midpoint can round onto an endpoint; `lo` separates them exactly too.
    mids = np.where((mids > lo) & (mids < hi), mids, lo)
    first = distinct[0] - 1e-6
    if not first < distinct[0]:  # huge magnitude: 1e-6 is lost to rounding
        first = np.nextafter(distinct[0], -np.inf)
    candidates = np.concatenate(([first], mids, [distinct[-1]]))

    k = int(np.argmax(values))  # first occurrence = smallest threshold
    return float(candidates[k]), float(values[k])


# -------------------- metrics --------------------


def _pair_metrics(y: np.ndarray, s: np.ndarray, threshold: float) -> dict[str, float | int | list | None]:
    from sklearn import metrics as skm  # imported when used: it adds seconds to every command's start

    pred = (s > threshold).astype(np.int64)
    cm = skm.confusion_matrix(y, pred, labels=[0, 1])
    n_dup = int(y.sum())
    both_classes = 0 < n_dup < y.shape[0]
    return {
        "n_pairs": int(y.shape[0]),
        "n_duplicates": n_dup,
        "threshold": float(threshold),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "precision": float(skm.precision_score(y, pred, zero_division=0)),
        "recall": float(skm.recall_score(y, pred, zero_division=0)),
        "f1": float(skm.f1_score(y, pred, zero_division=0)),
        "confusion_matrix": [[int(v) for v in row] for row in cm],
        "roc_auc": float(skm.roc_auc_score(y, s)) if both_classes else None,
        "average_precision": float(skm.average_precision_score(y, s)) if both_classes else None,
    }


def pair_metrics(
    labels: np.ndarray, scores: np.ndarray, threshold: float
) -> dict[str, float | int | list | None]:
    """Classification and ranking metrics of pairs at `threshold` (duplicate iff score > threshold).

    Keys: n_pairs, n_duplicates, threshold, accuracy, precision, recall, f1 (zero_division=0),
    confusion_matrix ``[[tn, fp], [fn, tp]]`` (nested lists of int), roc_auc, average_precision.
    roc_auc and average_precision are None (never NaN) when only one class is present.
    All numbers are plain Python int/float, so the dict is JSON-serialisable.
    """
    y, s = _validate(labels, scores)
    return _pair_metrics(y, s, _validate_threshold(threshold))


def threshold_report(
    labels: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    default_threshold: float = _DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """The full evaluation record.

    Everything of :func:`pair_metrics` at `threshold` (the model's stored τ) at the top level, plus
    ``"at_default_threshold"``: threshold/accuracy/precision/recall/f1 at `default_threshold`, plus
    ``"best_threshold_on_this_data"``: ``{"accuracy": {"threshold", "accuracy"}, "f1": {"threshold", "f1"}}``
    (reported only, never used as the model's threshold), plus ``"primary_metric": "accuracy"``.
    """
    y, s = _validate(labels, scores)
    report: dict[str, Any] = _pair_metrics(y, s, _validate_threshold(threshold))
    at_default = _pair_metrics(y, s, _validate_threshold(default_threshold))
    report["at_default_threshold"] = {k: at_default[k] for k in _PLAIN_KEYS}
    best: dict[str, dict[str, float]] = {}
    for metric in METRICS:
        t, v = best_threshold(y, s, metric)
        best[metric] = {"threshold": t, metric: v}
    report["best_threshold_on_this_data"] = best
    report["primary_metric"] = "accuracy"
    return report


# -------------------- plots --------------------


def _new_figure() -> Any:
    # Figure + Agg canvas directly: no pyplot, no global backend switch, no figure registry.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png")
    return path


def plot_roc(labels: np.ndarray, scores: np.ndarray, path: Path, threshold: float | None = None) -> Path:
    """Write a ROC curve PNG to `path` (AUC in the legend; operating point at `threshold` marked).

    With only one class present the ROC curve is undefined: the figure then shows just the chance
    diagonal and a note saying so (no exception, so an evaluation run still produces its files).
    Returns the path written.
    """
    y, s = _validate(labels, scores)
    t = None if threshold is None else _validate_threshold(threshold)
    fig = _new_figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    n_pos = int(y.sum())
    n_neg = y.shape[0] - n_pos
    if n_pos > 0 and n_neg > 0:
        from sklearn import metrics as skm

        fpr, tpr, _ = skm.roc_curve(y, s)
        auc = skm.roc_auc_score(y, s)
        ax.plot(fpr, tpr, color="C0", linewidth=2, label=f"ROC (AUC = {auc:.4f})")
        if t is not None:
            pred = s > t
            op_fpr = float((pred & (y == 0)).sum()) / n_neg
            op_tpr = float((pred & (y == 1)).sum()) / n_pos
            ax.plot(
                [op_fpr],
                [op_tpr],
                marker="o",
                markersize=8,
                color="C3",
                linestyle="none",
                label=f"τ = {t:.3f} (FPR {op_fpr:.3f}, TPR {op_tpr:.3f})",
            )
    else:
        only = "duplicates" if n_neg == 0 else "non-duplicates"
        ax.text(0.5, 0.5, f"ROC undefined:\nonly {only} present", ha="center", va="center")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title(f"ROC curve ({y.shape[0]} pairs, {n_pos} duplicates)")
    ax.legend(loc="lower right")
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def plot_similarity_histograms(
    labels: np.ndarray, scores: np.ndarray, path: Path, threshold: float | None = None
) -> Path:
    """Write overlaid similarity histograms (duplicates vs non-duplicates) as a PNG to `path`.

    Densities over shared bins spanning [-1, 1] (widened if any score falls outside), with a
    vertical line at `threshold` when given. Returns the path written.
    """
    y, s = _validate(labels, scores)
    t = None if threshold is None else _validate_threshold(threshold)
    lo = min(-1.0, float(s.min()))
    hi = max(1.0, float(s.max()))
    bins = np.linspace(lo, hi, 51)
    fig = _new_figure()
    ax = fig.add_subplot(1, 1, 1)
    for cls, name, color in ((0, "non-duplicates", "C1"), (1, "duplicates", "C0")):
        vals = s[y == cls]
        if vals.size:
            ax.hist(vals, bins=bins, density=True, alpha=0.5, color=color, label=f"{name} (n={vals.size})")
    if t is not None and np.isfinite(t):
        ax.axvline(t, color="k", linestyle="--", linewidth=1.5, label=f"threshold τ = {t:.3f}")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("Cosine similarity")
    ax.set_ylabel("Density")
    ax.set_title("Similarity of question pairs")
    ax.legend(loc="upper left")
    return _save(fig, path)
