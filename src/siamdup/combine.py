"""Combine trained models into one ensemble model, its member weights and τ tuned on labelled pairs.

The ensemble's similarity is the weighted mean of its members' cosines (see `model/ensemble.py`), so the
members' scores are computed once and every weighting on a grid is tried on them: no re-encoding.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from siamdup.data.readers import Pair
from siamdup.evaluate import PairEvaluator
from siamdup.metrics import best_threshold, threshold_report
from siamdup.model.ensemble import EnsembleEncoder, check_weights
from siamdup.model.siamese import Siamese


def weight_grid(n_members: int, step: float) -> list[tuple[float, ...]]:
    """Every weighting of `n_members` in multiples of `step` that sums to 1 (each member at least one step)."""
    parts = round(1 / step)
    if n_members < 2 or not np.isclose(parts * step, 1.0) or parts < n_members:
        raise ValueError(f"step must divide 1 into at least {max(n_members, 2)} parts, got {step}")
    grid = []
    for cuts in itertools.combinations(range(1, parts), n_members - 1):
        bounds = (0, *cuts, parts)
        grid.append(tuple((b - a) / parts for a, b in itertools.pairwise(bounds)))
    return grid


def combine(
    models: Sequence[Siamese],
    pairs: Sequence[Pair],
    weights: Sequence[float] | None = None,
    step: float = 0.05,
) -> tuple[Siamese, dict]:
    """An ensemble of `models` with the accuracy-optimal weights (on `weight_grid`; or `weights` as given)
    and τ on `pairs`. Returns the model and its report: the pairs' figures at its τ, each member's figures
    on the same pairs at its own accuracy-optimal τ, and every weighting tried."""
    if len(models) < 2:
        raise ValueError(f"an ensemble needs two or more models, got {len(models)}")
    if weights is not None:
        check_weights(list(weights), len(models))
    first = models[0].tokenizer
    for m in models[1:]:
        if m.tokenizer.hf.to_str() != first.hf.to_str() or m.tokenizer.max_length != first.max_length:
            raise ValueError(
                "ensemble members must share a tokenizer (vocabulary and max length): "
                f"{models[0].path or 'model 1'} and {m.path or 'another model'} differ"
            )
    evaluator = PairEvaluator(pairs, name="tune")
    labels = evaluator.labels
    member_scores = np.stack([evaluator.scores(m) for m in models])
    candidates = [tuple(weights)] if weights is not None else weight_grid(len(models), step)
    tried: list[dict[str, Any]] = []
    for w in candidates:
        threshold, accuracy = best_threshold(labels, np.asarray(w) @ member_scores, "accuracy")
        tried.append({"weights": list(w), "accuracy": accuracy, "threshold": threshold})
    best = max(tried, key=lambda t: t["accuracy"])  # ties: the first on the grid
    scores = np.asarray(best["weights"]) @ member_scores
    encoder = EnsembleEncoder([m.encoder for m in models], best["weights"])
    metadata = {"ensemble_of": [str(m.path) if m.path else None for m in models]}
    model = Siamese(first, encoder, best["threshold"], metadata)
    report = threshold_report(labels, scores, best["threshold"])
    report["members"] = [
        {"model": path, **threshold_report(labels, s, best_threshold(labels, s, "accuracy")[0])}
        for path, s in zip(metadata["ensemble_of"], member_scores, strict=True)
    ]
    report["weights_tried"] = tried
    return model.to(models[0].device), report
