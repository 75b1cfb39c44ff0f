"""Tests for siamdup.metrics."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from siamdup.metrics import (
    DPI,
    FIGSIZE,
    best_threshold,
    pair_metrics,
    plot_roc,
    plot_similarity_histograms,
    threshold_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# -------------------- helpers --------------------


def brute_force_best(labels: np.ndarray, scores: np.ndarray, metric: str) -> tuple[float, float]:
    """Loop over every candidate threshold; exact (Fraction) comparison, first maximum wins."""
    distinct = sorted(set(scores.tolist()))
    candidates = [distinct[0] - 1.0]  # anything below the minimum: all duplicate
    candidates += [(a + b) / 2 for a, b in itertools.pairwise(distinct)]
    candidates.append(distinct[-1])  # score > max never holds: none duplicate
    best_t, best_v = None, None
    for t in candidates:
        tp = fp = fn = tn = 0
        for y, s in zip(labels.tolist(), scores.tolist(), strict=True):
            pred = s > t
            if pred and y == 1:
                tp += 1
            elif pred:
                fp += 1
            elif y == 1:
                fn += 1
            else:
                tn += 1
        if metric == "accuracy":
            v = Fraction(tp + tn, len(labels))
        else:
            denom = 2 * tp + fp + fn
            v = Fraction(2 * tp, denom) if denom else Fraction(0)
        if best_v is None or v > best_v:
            best_t, best_v = t, v
    return best_t, float(best_v)


def random_data(seed: int, n: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=n)
    scores = np.clip(rng.normal(0.2 + 0.4 * labels, 0.35), -1.0, 1.0)
    if ties:
        scores = np.round(scores, 1)  # few distinct values, many ties across both classes
    return labels, scores


def read_png(path: Path) -> np.ndarray:
    from matplotlib.image import imread

    return imread(path)


# -------------------- best_threshold --------------------


@pytest.mark.parametrize("metric", ["accuracy", "f1"])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_best_threshold_matches_brute_force(seed: int, ties: bool, metric: str) -> None:
    labels, scores = random_data(seed, n=int(np.random.default_rng(seed).integers(5, 120)), ties=ties)
    t, v = best_threshold(labels, scores, metric)
    bt, bv = brute_force_best(labels, scores, metric)
    assert v == pytest.approx(bv, abs=1e-12)
    # Same candidate: same partition of the pairs, and (up to midpoint rounding) the same value.
    np.testing.assert_array_equal(scores > t, scores > bt)
    if bt >= scores.min():  # the below-the-minimum candidate is "any value below the min"
        assert t == pytest.approx(bt, abs=1e-12)
    else:
        assert t < scores.min()
    # The reported value is what the threshold really achieves (cross-checked with sklearn).
    pred = (scores > t).astype(int)
    if metric == "accuracy":
        assert v == pytest.approx(accuracy_score(labels, pred), abs=1e-12)
    else:
        assert v == pytest.approx(f1_score(labels, pred, zero_division=0), abs=1e-12)


@pytest.mark.parametrize("metric", ["accuracy", "f1"])
def test_best_threshold_consistent_with_pair_metrics(metric: str) -> None:
    labels, scores = random_data(42, n=2000, ties=True)
    t, v = best_threshold(labels, scores, metric)
    assert pair_metrics(labels, scores, t)[metric] == pytest.approx(v, abs=1e-12)


def test_best_threshold_all_duplicate_and_none_duplicate_candidates() -> None:
    # All positives: best accuracy/f1 is to call everything duplicate -> threshold below the minimum.
    labels = np.array([1, 1, 1])
    scores = np.array([0.1, 0.5, 0.9])
    for metric in ("accuracy", "f1"):
        t, v = best_threshold(labels, scores, metric)
        assert t < 0.1
        assert v == 1.0
    # All negatives: best accuracy is to call nothing duplicate -> threshold at the maximum.
    t, v = best_threshold(np.zeros(3, dtype=int), scores, "accuracy")
    assert t == 0.9
    assert v == 1.0
    assert pair_metrics(np.zeros(3, dtype=int), scores, t)["accuracy"] == 1.0


def test_best_threshold_tie_break_takes_smallest_threshold() -> None:
    # Accuracy 3/4 is reached at two candidates: the first (smallest) one must be returned.
    labels = np.array([0, 1, 0, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.4])
    # candidates: <0.1 (2/4), 0.15 (3/4), 0.25 (2/4), 0.35 (3/4), 0.4 (2/4)
    t, v = best_threshold(labels, scores, "accuracy")
    assert t == pytest.approx(0.15)
    assert v == 0.75


def test_best_threshold_exact_separation_and_constant_scores() -> None:
    labels = np.array([0, 0, 1, 1])
    scores = np.array([-0.5, 0.2, 0.6, 0.9])
    t, v = best_threshold(labels, scores)
    assert t == pytest.approx(0.4)
    assert v == 1.0
    # All scores equal: only "all" or "none" is possible.
    t, v = best_threshold(np.array([1, 1, 0]), np.full(3, 0.5), "accuracy")
    assert t < 0.5
    assert v == pytest.approx(2 / 3)


@pytest.mark.parametrize("a", [0.5, float(np.nextafter(0.5, 1.0)), -0.3, 0.123456789])
def test_best_threshold_adjacent_floats(a: float) -> None:
    # No float lies strictly between a and b: the midpoint rounds onto a or b (round-half-even
    # picks either, depending on a's last mantissa bit) and must still separate the two.
    b = float(np.nextafter(a, 1.0))
    labels = np.array([0, 1])
    scores = np.array([a, b])
    t, v = best_threshold(labels, scores)
    assert v == 1.0
    assert a <= t < b
    assert pair_metrics(labels, scores, t)["accuracy"] == 1.0


def test_best_threshold_rejects_unknown_metric() -> None:
    with pytest.raises(ValueError, match="metric"):
        best_threshold(np.array([0, 1]), np.array([0.1, 0.9]), "precision")


# -------------------- pair_metrics --------------------


def test_pair_metrics_hand_computed_example() -> None:
    labels = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.3, 0.75, 0.2, -0.4, 0.65, 0.1])
    # threshold 0.5 -> predictions: 1 1 0 1 0 0 1 0
    # tp = 3 (0.9, 0.8, 0.65), fn = 1 (0.3), fp = 1 (0.75), tn = 3
    m = pair_metrics(labels, scores, 0.5)
    assert m["n_pairs"] == 8
    assert m["n_duplicates"] == 4
    assert m["threshold"] == 0.5
    assert m["confusion_matrix"] == [[3, 1], [1, 3]]
    assert m["accuracy"] == pytest.approx(6 / 8)
    assert m["precision"] == pytest.approx(3 / 4)
    assert m["recall"] == pytest.approx(3 / 4)
    assert m["f1"] == pytest.approx(3 / 4)
    # Ranking: positives {0.9, 0.8, 0.65, 0.3} vs negatives {0.75, 0.2, 0.1, -0.4}:
    # pairs (pos > neg): 0.9:4, 0.8:4, 0.65:3, 0.3:3 -> 14 / 16.
    assert m["roc_auc"] == pytest.approx(14 / 16)
    # AP: ranked 0.9+ 0.8+ 0.75- 0.65+ 0.3+ -> (1 + 1 + 3/4 + 4/5) / 4
    assert m["average_precision"] == pytest.approx((1 + 1 + 0.75 + 0.8) / 4)
    assert set(m) == {
        "n_pairs",
        "n_duplicates",
        "threshold",
        "accuracy",
        "precision",
        "recall",
        "f1",
        "confusion_matrix",
        "roc_auc",
        "average_precision",
    }


def test_pair_metrics_asymmetric_example() -> None:
    labels = np.array([1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.6, 0.4, 0.1])
    # threshold 0.5 -> predicted 1 1 1 0 0: tp 1, fp 2, fn 1, tn 1
    m = pair_metrics(labels, scores, 0.5)
    assert m["confusion_matrix"] == [[1, 2], [1, 1]]
    assert m["accuracy"] == pytest.approx(2 / 5)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["recall"] == pytest.approx(1 / 2)
    assert m["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))


def test_strictly_greater_rule_at_tie() -> None:
    labels = np.array([1, 0, 1])
    scores = np.array([0.7, 0.7, 0.9])
    m = pair_metrics(labels, scores, 0.7)
    # score == threshold -> not duplicate: only 0.9 is predicted duplicate.
    assert m["confusion_matrix"] == [[1, 0], [1, 1]]
    assert m["recall"] == pytest.approx(0.5)
    assert m["precision"] == 1.0
    # Just below the tie both 0.7 pairs flip to duplicate.
    m2 = pair_metrics(labels, scores, float(np.nextafter(0.7, 0.0)))
    assert m2["confusion_matrix"] == [[0, 1], [0, 2]]


@pytest.mark.parametrize("cls", [0, 1])
def test_single_class_gives_none_ranking_metrics(cls: int) -> None:
    labels = np.full(4, cls)
    scores = np.array([0.1, 0.5, 0.8, -0.2])
    m = pair_metrics(labels, scores, 0.3)
    assert m["roc_auc"] is None
    assert m["average_precision"] is None
    assert m["n_duplicates"] == 4 * cls
    assert all(isinstance(m[k], float) for k in ("accuracy", "precision", "recall", "f1"))
    assert not any(isinstance(v, float) and math.isnan(v) for v in m.values())
    json.dumps(m)  # serialisable, no NaN


def test_pair_metrics_returns_plain_python_types() -> None:
    labels, scores = random_data(3, 100, ties=False)
    m = pair_metrics(labels.astype(bool), scores.astype(np.float32), np.float32(0.4))
    assert type(m["n_pairs"]) is int
    assert type(m["n_duplicates"]) is int
    for key in ("threshold", "accuracy", "precision", "recall", "f1", "roc_auc", "average_precision"):
        assert type(m[key]) is float, key
    assert all(type(v) is int for row in m["confusion_matrix"] for v in row)
    json.loads(json.dumps(m, allow_nan=False))


# -------------------- threshold_report --------------------


def test_threshold_report_structure() -> None:
    labels, scores = random_data(11, 500, ties=False)
    rep = threshold_report(labels, scores, threshold=0.45)
    top = pair_metrics(labels, scores, 0.45)
    for key, value in top.items():
        assert rep[key] == value
    assert rep["threshold"] == 0.45  # the model's stored threshold, not the best one
    assert rep["primary_metric"] == "accuracy"
    default = pair_metrics(labels, scores, 0.7)
    assert rep["at_default_threshold"] == {
        k: default[k] for k in ("threshold", "accuracy", "precision", "recall", "f1")
    }
    best = rep["best_threshold_on_this_data"]
    assert set(best) == {"accuracy", "f1"}
    for metric in ("accuracy", "f1"):
        t, v = best_threshold(labels, scores, metric)
        assert best[metric] == {"threshold": t, metric: v}
        assert best[metric][metric] >= rep[metric]
    json.loads(json.dumps(rep, allow_nan=False))


def test_threshold_report_custom_default_and_single_class() -> None:
    rep = threshold_report(np.ones(3, dtype=int), np.array([0.2, 0.4, 0.6]), 0.3, default_threshold=0.5)
    assert rep["at_default_threshold"]["threshold"] == 0.5
    assert rep["at_default_threshold"]["recall"] == pytest.approx(1 / 3)
    assert rep["roc_auc"] is None
    assert rep["best_threshold_on_this_data"]["accuracy"]["accuracy"] == 1.0


# -------------------- plots --------------------


def check_png(path: Path) -> None:
    assert path.is_file()
    data = path.read_bytes()
    assert len(data) > 1000
    assert data[:8] == PNG_MAGIC
    img = read_png(path)
    assert img.shape[:2] == (round(FIGSIZE[1] * DPI), round(FIGSIZE[0] * DPI))
    assert img.shape[2] in (3, 4)
    assert img[..., :3].std() > 0  # not a blank image


@pytest.mark.parametrize("threshold", [None, 0.5])
def test_plot_roc_writes_png(tmp_path: Path, threshold: float | None) -> None:
    labels, scores = random_data(5, 300, ties=False)
    out = plot_roc(labels, scores, tmp_path / "sub" / "roc.png", threshold=threshold)
    assert out == tmp_path / "sub" / "roc.png"
    check_png(out)


def test_plot_roc_single_class_still_writes_png(tmp_path: Path) -> None:
    out = plot_roc(np.ones(5, dtype=int), np.linspace(0, 1, 5), tmp_path / "roc.png", threshold=0.5)
    check_png(out)


@pytest.mark.parametrize("threshold", [None, 0.7])
def test_plot_similarity_histograms_writes_png(tmp_path: Path, threshold: float | None) -> None:
    labels, scores = random_data(6, 300, ties=False)
    out = plot_similarity_histograms(labels, scores, str(tmp_path / "hist.png"), threshold=threshold)
    assert isinstance(out, Path)
    check_png(out)


def test_plot_similarity_histograms_single_class_and_out_of_range(tmp_path: Path) -> None:
    scores = np.array([-1.0, 0.3, 1.0000001, 0.99])
    out = plot_similarity_histograms(np.zeros(4, dtype=int), scores, tmp_path / "h.png", threshold=0.5)
    check_png(out)


def test_plots_do_not_touch_pyplot(tmp_path: Path) -> None:
    code = (
        "import sys, numpy as np\n"
        "from pathlib import Path\n"
        "from siamdup.metrics import plot_roc, plot_similarity_histograms\n"
        "y = np.array([0, 1, 0, 1]); s = np.array([0.1, 0.8, 0.4, 0.6])\n"
        f"plot_roc(y, s, Path({str(tmp_path)!r}) / 'r.png', 0.5)\n"
        f"plot_similarity_histograms(y, s, Path({str(tmp_path)!r}) / 'h.png', 0.5)\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    check_png(tmp_path / "r.png")
    check_png(tmp_path / "h.png")


# -------------------- validation --------------------

GOOD_LABELS = np.array([0, 1, 1])
GOOD_SCORES = np.array([0.1, 0.5, 0.9])


@pytest.mark.parametrize(
    ("labels", "scores", "match"),
    [
        (np.array([0, 1]), GOOD_SCORES, "same length"),
        (np.array([], dtype=int), np.array([]), "non-empty"),
        (GOOD_LABELS.reshape(3, 1), GOOD_SCORES.reshape(3, 1), "1-D"),
        (GOOD_LABELS, GOOD_SCORES.reshape(1, 3), "1-D"),
        (np.array([0, 2, 1]), GOOD_SCORES, "only 0 and 1"),
        (np.array([0, -1, 1]), GOOD_SCORES, "only 0 and 1"),
        (np.array([0.0, 0.5, 1.0]), GOOD_SCORES, "only 0 and 1"),
        (np.array([0.0, np.nan, 1.0]), GOOD_SCORES, "only 0 and 1"),
        (np.array(["0", "1", "1"]), GOOD_SCORES, "labels"),
        (GOOD_LABELS, np.array([0.1, np.nan, 0.9]), "finite"),
        (GOOD_LABELS, np.array([0.1, np.inf, 0.9]), "finite"),
        (GOOD_LABELS, np.array([0.1, -np.inf, 0.9]), "finite"),
        (GOOD_LABELS, np.array(["a", "b", "c"]), "scores"),
    ],
)
def test_bad_inputs_raise_value_error(labels: np.ndarray, scores: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        best_threshold(labels, scores)
    with pytest.raises(ValueError, match=match):
        pair_metrics(labels, scores, 0.5)
    with pytest.raises(ValueError, match=match):
        threshold_report(labels, scores, 0.5)


def test_bad_inputs_raise_in_plots(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="finite"):
        plot_roc(GOOD_LABELS, np.array([0.1, np.nan, 0.9]), tmp_path / "r.png")
    with pytest.raises(ValueError, match="same length"):
        plot_similarity_histograms(np.array([0, 1]), GOOD_SCORES, tmp_path / "h.png")
    assert not (tmp_path / "r.png").exists()
    assert not (tmp_path / "h.png").exists()


def test_nan_threshold_rejected() -> None:
    with pytest.raises(ValueError, match="threshold"):
        pair_metrics(GOOD_LABELS, GOOD_SCORES, float("nan"))


def test_list_inputs_accepted() -> None:
    m = pair_metrics([0, 1, 1], [0.1, 0.5, 0.9], 0.3)
    assert m["accuracy"] == 1.0
