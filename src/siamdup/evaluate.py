"""Evaluators: each returns a dict naming its primary metric (pairs: accuracy; retrieval: MRR@10)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


class RetrievalEvaluator:
    """Finding a question's duplicate among all questions: Recall@1, Recall@10 and MRR@10.

    Every distinct question of the pairs is stored; for each duplicate pair (q1, q2), q1 is the query
    and q2 the answer to find among all stored questions but q1 itself. Ties count against the answer.
    """

    primary_metric = "mrr@10"

    def __init__(self, pairs: Sequence[Pair], name: str = "eval") -> None:
        self.name = name
        position: dict[str, int] = {}
        for p in pairs:
            position.setdefault(p.question1, len(position))
            position.setdefault(p.question2, len(position))
        self.corpus = list(position)
        found = [(position[p.question1], position[p.question2]) for p in pairs if p.label == 1]
        found = [(q, a) for q, a in found if q != a]
        if not found:
            raise ValueError("retrieval evaluation needs at least one duplicate pair of two different texts")
        self.queries = np.array([q for q, _ in found])
        self.answers = np.array([a for _, a in found])

    def __call__(self, model: Siamese) -> dict:
        vectors = model.encode(self.corpus)
        return self.from_scores(lambda rows: vectors[rows] @ vectors.T)

    def from_scores(self, score_rows: Callable[[np.ndarray], np.ndarray], chunk: int = 1024) -> dict:
        """Metrics from any scorer: `score_rows(corpus rows)` gives those rows' scores against the corpus."""
        ranks = np.empty(len(self.queries), dtype=np.int64)
        for start in range(0, len(self.queries), chunk):
            queries = self.queries[start : start + chunk]
            scores = np.asarray(score_rows(queries), dtype=np.float64)
            scores[np.arange(len(queries)), queries] = -np.inf  # a question is not its own duplicate
            answer = scores[np.arange(len(queries)), self.answers[start : start + chunk]]
            ranks[start : start + chunk] = (scores >= answer[:, None]).sum(axis=1)  # 1 = found first
        return {
            "name": self.name,
            "primary_metric": self.primary_metric,
            "recall@1": float(np.mean(ranks <= 1)),
            "recall@10": float(np.mean(ranks <= 10)),
            "mrr@10": float(np.mean(np.where(ranks <= 10, 1.0 / ranks, 0.0))),
            "n_queries": len(ranks),
            "n_corpus": len(self.corpus),
        }
