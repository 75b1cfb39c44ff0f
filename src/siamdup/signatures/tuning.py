"""Choosing how a model scores (aggregation, normalisation, the fusion with DTW) and its τ on dev
writers."""

from __future__ import annotations

import itertools

import numpy as np

from siamdup.signatures.config import AGGREGATIONS, NORMALISATIONS
from siamdup.signatures.evaluation import (
    ProtocolScores,
    embedding_similarity,
    protocol_scores,
    protocol_trials,
)
from siamdup.signatures.fusion import DTW_AGGREGATION, DTW_NORMALISATION, FusionRule, dtw_similarity
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


FUSION_WEIGHTS = tuple(k / 10 for k in range(11))


def calibrate_fusion(learned: ProtocolScores, dtw: ProtocolScores) -> tuple[FusionRule, dict]:
    """The fusion of two verifiers' scores of the same dev trials: each standardised by its mean and
    spread over all those trials, the weight with the lowest skilled-forgery EER (ties: lower random
    EER, then the lower weight), τ at that EER point. Returns the rule and its dev figures."""

    def spread(scores: ProtocolScores) -> tuple[float, float]:
        pooled = np.concatenate([scores.genuine, scores.skilled, scores.random])
        return float(pooled.mean()), float(pooled.std()) or 1.0

    best: tuple[FusionRule, dict] | None = None
    for weight in FUSION_WEIGHTS:
        rule = FusionRule(weight, *spread(learned), *spread(dtw))
        fused = ProtocolScores(
            rule.combine(learned.genuine, dtw.genuine),
            rule.combine(learned.skilled, dtw.skilled),
            rule.combine(learned.random, dtw.random),
        )
        figures = fused.figures()
        if best is None or (figures["skilled_eer"], figures["random_eer"]) < (
            best[1]["skilled_eer"],
            best[1]["random_eer"],
        ):
            best = (rule, figures)
    assert best is not None
    return best


def fuse_on_dev(
    model: SignatureModel, records: list[SignatureRecord], writers: list[int], seed: int = 0
) -> dict:
    """Set `model.fusion` and τ (the fused score's skilled-forgery EER point) from dev `writers`, the
    learned score scored as the model already says; returns the fused dev figures."""
    trials = protocol_trials(records, sorted(writers), seed=seed)
    embeddings = model.embed([r.trajectory for r in records])
    learned = protocol_scores(
        trials, embedding_similarity(embeddings), model.aggregation, model.normalisation
    )
    dtw = protocol_scores(trials, dtw_similarity(records), DTW_AGGREGATION, DTW_NORMALISATION)
    rule, figures = calibrate_fusion(learned, dtw)
    model.fusion = rule
    threshold = figures["skilled_threshold"]
    model.threshold = float(threshold) if np.isfinite(threshold) else -1.0
    return {**{k: round(v, 6) for k, v in figures.items()}, "weight": rule.weight}
