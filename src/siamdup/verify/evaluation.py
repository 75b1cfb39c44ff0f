"""The verifier's figures on labelled pairs: those of a Siamese model's evaluation (at its stored threshold),
plus how well its probability is calibrated."""

from __future__ import annotations

from pathlib import Path

from siamdup.evaluate import PairEvaluator
from siamdup.metrics import plot_roc, plot_similarity_histograms, threshold_report
from siamdup.verify.calibration import expected_calibration_error, reliability_bins
from siamdup.verify.scoring import PairScorer

# A probability's natural cut, reported beside the stored threshold (a cosine's is 0.7).
EVEN_ODDS = 0.5


def evaluate_verifier(
    evaluator: PairEvaluator, verifier: PairScorer, plots: str | Path | None = None
) -> dict:
    """The report at the verifier's stored threshold and at 0.5, its expected calibration error (`ece`) and
    reliability bins; with `plots`, ROC and score-histogram PNGs there. Every pair is scored once."""
    scores = verifier.score(evaluator.q1, evaluator.q2)
    report = threshold_report(evaluator.labels, scores, verifier.threshold, default_threshold=EVEN_ODDS)
    report["name"] = evaluator.name
    report["ece"] = expected_calibration_error(evaluator.labels, scores)
    report["reliability"] = reliability_bins(evaluator.labels, scores)
    if plots is not None:
        folder = Path(plots)
        folder.mkdir(parents=True, exist_ok=True)
        report["plots"] = [
            str(plot_roc(evaluator.labels, scores, folder / "roc.png", verifier.threshold)),
            str(
                plot_similarity_histograms(
                    evaluator.labels, scores, folder / "similarity_histogram.png", verifier.threshold
                )
            ),
        ]
    return report
