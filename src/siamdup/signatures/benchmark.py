"""The learned model and the DTW baseline scored on the same SVC2004 protocol trials, side by side."""

from __future__ import annotations

import numpy as np

from siamdup.signatures.dtw import dtw_distances
from siamdup.signatures.evaluation import (
    ProtocolScores,
    WriterTrial,
    embedding_similarity,
    protocol_scores,
    protocol_trials,
)
from siamdup.signatures.model import SignatureModel
from siamdup.trajectory.features import FeatureConfig, feature_batch
from siamdup.trajectory.svc2004 import SignatureRecord

# DTW reads the same resampled, normalised trajectories as the encoder, in the channels that served it
# best on dev writers. Its similarity is -log(distance), so the "reference-spread" normalisation divides
# by the references' own mean distance, as DTW verifiers do.
DTW_CHANNELS = ("vx", "vy", "pressure")
DTW_AGGREGATION = "mean"
DTW_NORMALISATION = "reference-spread"


def dtw_similarity(records: list[SignatureRecord], features: FeatureConfig):
    """A trial's (pool, candidates) similarity matrix by DTW, computed for the pairs the trial uses."""
    steps = feature_batch([r.trajectory for r in records], features)

    def similarity(trial: WriterTrial) -> np.ndarray:
        rows, cols = np.meshgrid(trial.pool, trial.candidates, indexing="ij")
        distances = dtw_distances(steps[rows.ravel()], steps[cols.ravel()]).reshape(rows.shape)
        return -np.log(distances + 1e-9)

    return similarity


def dtw_features(features: FeatureConfig) -> FeatureConfig:
    return FeatureConfig(features.length, DTW_CHANNELS)


def compare(
    model: SignatureModel, records: list[SignatureRecord], writers: list[int], seed: int = 0, dtw: bool = True
) -> dict[str, ProtocolScores]:
    """Protocol scores of the model (its stored scoring) and, with `dtw`, of the DTW baseline."""
    trials = protocol_trials(records, writers, seed=seed)
    embeddings = model.embed([r.trajectory for r in records])
    results = {
        "model": protocol_scores(
            trials, embedding_similarity(embeddings), model.aggregation, model.normalisation
        )
    }
    if dtw:
        results["dtw"] = protocol_scores(
            trials, dtw_similarity(records, dtw_features(model.features)), DTW_AGGREGATION, DTW_NORMALISATION
        )
        results["fused"] = fuse(results["model"], results["dtw"])
    return results


def fuse(a: ProtocolScores, b: ProtocolScores, weight: float = 0.5) -> ProtocolScores:
    """The weighted mean of two verifiers' scores of the same trials, each first standardised over all
    its scores (no labels used), so that neither dominates by its units."""

    def standardised(scores: ProtocolScores) -> list[np.ndarray]:
        pooled = np.concatenate([scores.genuine, scores.skilled, scores.random])
        return [
            (s - pooled.mean()) / (pooled.std() + 1e-12)
            for s in (scores.genuine, scores.skilled, scores.random)
        ]

    parts = [weight * x + (1 - weight) * y for x, y in zip(standardised(a), standardised(b), strict=True)]
    return ProtocolScores(*parts)
