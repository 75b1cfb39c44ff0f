"""Does the verifier's probability mean what it says? Expected calibration error (ECE), reliability bins, and
temperature scaling: one number T fitted on dev so that sigmoid(logit / T) minimises the negative
log-likelihood, kept only where it lowers the ECE. T never changes which pair scores higher, so accuracy at
the re-tuned threshold and ROC-AUC stay as they were."""

from __future__ import annotations

import numpy as np

DEFAULT_BINS = 15
# Temperatures searched, as log T: from a hundredth to a hundred times as sharp.
LOG_T_RANGE = (-4.6, 4.6)


def _checked(labels: np.ndarray, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels, dtype=np.float64)
    p = np.asarray(probabilities, dtype=np.float64)
    if y.shape != p.shape or y.ndim != 1 or len(y) == 0:
        raise ValueError(
            f"labels and probabilities must be 1-D of one non-zero length, got {y.shape}, {p.shape}"
        )
    if np.any((p < 0) | (p > 1)) or not np.isfinite(p).all():
        raise ValueError("probabilities must lie in [0, 1]")
    return y, p


def reliability_bins(labels: np.ndarray, probabilities: np.ndarray, n_bins: int = DEFAULT_BINS) -> list[dict]:
    """Equal-width bins of P(duplicate) over [0, 1] (the last one closed): each non-empty bin's range, pair
    count, mean predicted probability and observed share of duplicates."""
    y, p = _checked(labels, probabilities)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    confidence = np.bincount(which, weights=p, minlength=n_bins)
    observed = np.bincount(which, weights=y, minlength=n_bins)
    return [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "pairs": int(counts[b]),
            "mean_probability": float(confidence[b] / counts[b]),
            "duplicate_share": float(observed[b] / counts[b]),
        }
        for b in range(n_bins)
        if counts[b]
    ]


def expected_calibration_error(
    labels: np.ndarray, probabilities: np.ndarray, n_bins: int = DEFAULT_BINS
) -> float:
    """Σ over bins of (pairs in bin / all pairs) · |mean predicted probability − observed duplicate share|."""
    bins = reliability_bins(labels, probabilities, n_bins)
    total = sum(b["pairs"] for b in bins)
    return float(sum(b["pairs"] / total * abs(b["mean_probability"] - b["duplicate_share"]) for b in bins))


def negative_log_likelihood(labels: np.ndarray, logits: np.ndarray, temperature: float = 1.0) -> float:
    """Mean binary cross-entropy of sigmoid(logits / temperature) against the labels (computed stably)."""
    y = np.asarray(labels, dtype=np.float64)
    z = np.asarray(logits, dtype=np.float64) / temperature
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def fit_temperature(labels: np.ndarray, logits: np.ndarray) -> float:
    """The temperature T > 0 minimising the NLL of sigmoid(logits / T) on these pairs."""
    from scipy.optimize import minimize_scalar  # only training and calibration need it

    result = minimize_scalar(
        lambda log_t: negative_log_likelihood(labels, logits, float(np.exp(log_t))),
        bounds=LOG_T_RANGE,
        method="bounded",
    )
    return float(np.exp(result.x))


def calibrate(labels: np.ndarray, logits: np.ndarray, n_bins: int = DEFAULT_BINS) -> dict:
    """Fit a temperature on these pairs and keep it only if it lowers their ECE. Returns the record stored in
    the verifier's config: the chosen `temperature` (1.0 when scaling did not help), the fitted one, and the
    ECE and NLL before and after, plus the reliability bins at the chosen temperature."""
    fitted = fit_temperature(labels, logits)
    z = np.asarray(logits, dtype=np.float64)
    before = expected_calibration_error(labels, 1 / (1 + np.exp(-z)), n_bins)
    after = expected_calibration_error(labels, 1 / (1 + np.exp(-z / fitted)), n_bins)
    chosen = fitted if after < before else 1.0
    return {
        "temperature": chosen,
        "fitted_temperature": fitted,
        "ece_before": before,
        "ece_after": min(before, after),
        "nll_before": negative_log_likelihood(labels, z),
        "nll_after": negative_log_likelihood(labels, z, chosen),
        "bins": reliability_bins(labels, 1 / (1 + np.exp(-z / chosen)), n_bins),
    }
