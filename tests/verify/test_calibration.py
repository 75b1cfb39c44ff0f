import numpy as np
import pytest

from siamdup.verify.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
    reliability_bins,
)


def slow_ece(labels: np.ndarray, probabilities: np.ndarray, n_bins: int) -> float:
    """ECE by its definition, one pair at a time."""
    total, ece = len(labels), 0.0
    for b in range(n_bins):
        low, high = b / n_bins, (b + 1) / n_bins
        members = [
            i for i, p in enumerate(probabilities) if low <= p < high or (b == n_bins - 1 and p == 1.0)
        ]
        if not members:
            continue
        confidence = sum(probabilities[i] for i in members) / len(members)
        observed = sum(labels[i] for i in members) / len(members)
        ece += len(members) / total * abs(confidence - observed)
    return ece


@pytest.mark.parametrize("n_bins", [1, 5, 15])
def test_ece_matches_a_loop_over_the_pairs(n_bins: int) -> None:
    rng = np.random.default_rng(0)
    probabilities = np.concatenate([rng.random(500), [0.0, 1.0, 0.2, 0.4]])  # bin edges included
    labels = (rng.random(len(probabilities)) < probabilities**2).astype(int)
    assert expected_calibration_error(labels, probabilities, n_bins) == pytest.approx(
        slow_ece(labels, probabilities, n_bins), abs=1e-12
    )


def test_reliability_bins_count_every_pair() -> None:
    probabilities = np.array([0.05, 0.05, 0.95, 1.0])
    bins = reliability_bins(np.array([0, 1, 1, 1]), probabilities, n_bins=10)
    assert [b["pairs"] for b in bins] == [2, 2]
    assert bins[0]["duplicate_share"] == 0.5 and bins[1]["mean_probability"] == pytest.approx(0.975)


def test_a_perfectly_calibrated_score_has_small_ece() -> None:
    rng = np.random.default_rng(1)
    probabilities = rng.random(200_000)
    labels = (rng.random(len(probabilities)) < probabilities).astype(int)
    assert expected_calibration_error(labels, probabilities) < 0.01


def overconfident_toy(seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from sigmoid(z), logits reported as 4 z: four times too sure."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, 20_000)
    labels = (rng.random(len(z)) < 1 / (1 + np.exp(-z))).astype(int)
    return labels, 4 * z


def test_temperature_scaling_recovers_the_true_temperature_and_lowers_nll() -> None:
    labels, logits = overconfident_toy()
    temperature = fit_temperature(labels, logits)
    assert temperature == pytest.approx(4.0, rel=0.1)
    assert (
        negative_log_likelihood(labels, logits, temperature) < negative_log_likelihood(labels, logits) - 0.05
    )


def test_calibrate_keeps_a_temperature_only_where_it_lowers_ece() -> None:
    labels, logits = overconfident_toy()
    record = calibrate(labels, logits)
    assert record["temperature"] == record["fitted_temperature"] != 1.0
    assert record["ece_after"] < record["ece_before"] and record["nll_after"] < record["nll_before"]
    calibrated = calibrate(labels, logits / 4)  # already calibrated: scaling cannot help
    assert calibrated["temperature"] == 1.0 or calibrated["ece_after"] < calibrated["ece_before"]
    assert calibrated["ece_after"] <= calibrated["ece_before"]
