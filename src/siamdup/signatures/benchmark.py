"""The learned model, the DTW baseline and their fusion scored on the same SVC2004 protocol trials."""

from __future__ import annotations

import numpy as np

from siamdup.signatures.evaluation import (
    ProtocolScores,
    embedding_similarity,
    protocol_scores,
    protocol_trials,
)
from siamdup.signatures.fusion import DTW_AGGREGATION, DTW_NORMALISATION, FusionRule, dtw_similarity
from siamdup.signatures.model import SignatureModel
from siamdup.trajectory.svc2004 import SignatureRecord


def compare(
    model: SignatureModel, records: list[SignatureRecord], writers: list[int], seed: int = 0, dtw: bool = True
) -> dict[str, ProtocolScores]:
    """Protocol scores of the model's learned score (its stored scoring) and, with `dtw`, of the DTW
    baseline and of the fusion: the model's stored fusion rule, or for a model without one an even mix
    of both scores standardised over these trials."""
    trials = protocol_trials(records, writers, seed=seed)
    embeddings = model.embed([r.trajectory for r in records])
    results = {
        "model": protocol_scores(
            trials, embedding_similarity(embeddings), model.aggregation, model.normalisation
        )
    }
    if dtw:
        results["dtw"] = protocol_scores(trials, dtw_similarity(records), DTW_AGGREGATION, DTW_NORMALISATION)
        results["fused"] = fuse(results["model"], results["dtw"], model.fusion)
    return results


def fuse(a: ProtocolScores, b: ProtocolScores, rule: FusionRule | None = None) -> ProtocolScores:
    """`rule` applied to two verifiers' scores of the same trials; without a rule, the mean of the two
    each standardised over all its scores here (no labels used), so that neither dominates by its units."""
    if rule is None:
        stats = [
            (float(p.mean()), float(p.std()) or 1.0)
            for p in (np.concatenate([s.genuine, s.skilled, s.random]) for s in (a, b))
        ]
        rule = FusionRule(0.5, *stats[0], *stats[1])
    return ProtocolScores(
        rule.combine(a.genuine, b.genuine),
        rule.combine(a.skilled, b.skilled),
        rule.combine(a.random, b.random),
    )
