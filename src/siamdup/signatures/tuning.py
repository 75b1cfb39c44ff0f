"""Choosing how a model scores (aggregation, normalisation) and its τ on dev writers."""

from __future__ import annotations

import itertools

import numpy as np

from siamdup.signatures.config import AGGREGATIONS, NORMALISATIONS
from siamdup.signatures.evaluation import embedding_similarity, protocol_scores, protocol_trials
from siamdup.signatures.model import SignatureModel
from siamdup.trajectory.svc2004 import SignatureRecord


def tune_on_dev(
    model: SignatureModel, records: list[SignatureRecord], writers: list[int], seed: int = 0
) -> dict:
    """The scoring with the lowest skilled-forgery EER on `writers` (ties: lower random EER), with τ at
    its skilled-forgery EER point."""
    embeddings = model.embed([r.trajectory for r in records])
    trials = protocol_trials(records, sorted(writers), seed=seed)
    similarity = embedding_similarity(embeddings)
    best: dict | None = None
    for aggregation, normalisation in itertools.product(AGGREGATIONS, NORMALISATIONS):
        figures = protocol_scores(trials, similarity, aggregation, normalisation).figures()
        key = (figures["skilled_eer"], figures["random_eer"])
        if best is None or key < (best["skilled_eer"], best["random_eer"]):
            threshold = figures["skilled_threshold"]
            best = {
                **{k: round(v, 6) for k, v in figures.items()},
                "aggregation": aggregation,
                "normalisation": normalisation,
                "threshold": float(threshold) if np.isfinite(threshold) else -1.0,
            }
    assert best is not None
    return best
