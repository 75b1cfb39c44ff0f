"""How a query's similarities to a writer's references become one score (shared by the model, the
evaluation protocol and the DTW baseline, so all three score alike)."""

from __future__ import annotations

import numpy as np

NORMALISATIONS = ("none", "reference-spread", "reference-z")
SPREAD_FLOOR = 0.01  # keeps a writer whose references are near copies from dividing by ~0


def aggregate(
    to_query: np.ndarray, among_references: np.ndarray | None, aggregation: str, normalisation: str
) -> np.ndarray:
    """Scores (m,) from similarities `to_query` (k references, m queries) and `among_references` (k, k).

    aggregation "max" or "mean" over the references; normalisation "reference-spread" subtracts the
    references' mean similarity to each other, so a writer who signs consistently is held to a higher bar
    than one who varies; "reference-z" also divides by their spread (a z-score); "none" leaves the
    score a plain similarity.
    """
    if aggregation not in ("max", "mean"):
        raise ValueError(f"unknown aggregation {aggregation!r}: use max or mean")
    scores = to_query.max(axis=0) if aggregation == "max" else to_query.mean(axis=0)
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"unknown normalisation {normalisation!r}: use {', '.join(NORMALISATIONS)}")
    k = len(to_query)
    if normalisation != "none" and among_references is not None and k > 1:
        pairs = among_references[np.triu_indices(k, k=1)]
        scores = scores - pairs.mean()
        if normalisation == "reference-z":
            scores = scores / (pairs.std() + SPREAD_FLOOR)
    return scores
