"""Evaluate a model on labelled pairs: one evaluator, returning a dict whose primary metric is accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from siamdup.data.readers import Pair
from siamdup.metrics import best_threshold, plot_roc, plot_similarity_histograms, threshold_report
from siamdup.model.siamese import Siamese


class PairEvaluator:
    """Scores every pair with the model and reports the figures at the model's τ (see `metrics`)."""

    primary_metric = "accuracy"

    def __init__(self, pairs: Sequence[Pair], name: str = "eval") -> None:
        if any(p.label is None for p in pairs):
            raise ValueError("evaluation needs a label (0/1) on every pair")
        self.name = name
        self.q1 = [p.question1 for p in pairs]
        self.q2 = [p.question2 for p in pairs]
        self.labels = np.array([p.label for p in pairs], dtype=np.int64)

    def scores(self, model: Siamese) -> np.ndarray:
        return model.similarity(self.q1, self.q2)

    def __call__(self, model: Siamese, plots: str | Path | None = None) -> dict:
        """The report at the model's stored τ; with `plots`, also ROC and histogram PNGs there."""
        scores = self.scores(model)
        report = threshold_report(self.labels, scores, model.threshold)
        report["name"] = self.name
        if plots is not None:
            folder = Path(plots)
            folder.mkdir(parents=True, exist_ok=True)
            report["plots"] = [
                str(plot_roc(self.labels, scores, folder / "roc.png", model.threshold)),
                str(
                    plot_similarity_histograms(
                        self.labels, scores, folder / "similarity_histogram.png", model.threshold
                    )
                ),
            ]
        return report

    def tune(self, model: Siamese) -> dict:
        """The report at the accuracy-optimal τ on these pairs (how training picks the τ it stores)."""
        scores = self.scores(model)
        threshold, _ = best_threshold(self.labels, scores, "accuracy")
        report = threshold_report(self.labels, scores, threshold)
        report["name"] = self.name
        return report
