"""The decision rule that fuses the learned model with DTW, each score normalised by the writer's own
references first (user-dependent normalisation), then standardised and mixed.

DTW compares z-normalised velocity, speed, direction, curvature and pressure at `DTW_FEATURES` steps; a
query's DTW score is the mean over the references of -log(distance), minus the references' own mean of
-log(distance) to each other: the log of how far the query is from the references, measured in units of
how far the references are from each other, so a writer who signs consistently is held to a tighter bar.
The learned score is normalised as the model's `normalisation` says. Each is standardised with the mean
and spread it had on dev writers, and the fused score is `weight` * model + (1 - weight) * DTW.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from siamdup.signatures.dtw import dtw_distances
from siamdup.signatures.evaluation import WriterTrial
from siamdup.signatures.scoring import aggregate
from siamdup.trajectory.features import FeatureConfig, feature_batch
from siamdup.trajectory.svc2004 import SignatureRecord

DTW_FEATURES = FeatureConfig(
    64, ("vx", "vy", "speed", "cos", "sin", "curvature", "pressure"), standardise=True
)
DTW_AGGREGATION = "mean"
DTW_NORMALISATION = "reference-spread"
TINY_DISTANCE = 1e-9  # keeps -log finite for a signature compared with itself


@dataclass
class FusionRule:
    """How the learned and the DTW score become one: each standardised by its dev-writer mean and spread,
    then `weight` * model + (1 - weight) * DTW."""

    weight: float
    model_mean: float
    model_std: float
    dtw_mean: float
    dtw_std: float

    def combine(self, model_scores: np.ndarray, dtw_scores: np.ndarray) -> np.ndarray:
        model_part = (np.asarray(model_scores) - self.model_mean) / self.model_std
        dtw_part = (np.asarray(dtw_scores) - self.dtw_mean) / self.dtw_std
        return self.weight * model_part + (1 - self.weight) * dtw_part

    def to_dict(self) -> dict:
        return asdict(self)


def dtw_similarity_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """-log DTW distance of every row of `a` (n, steps, c) to every row of `b` (m, steps, c): (n, m)."""
    rows, cols = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    distances = dtw_distances(a[rows.ravel()], b[cols.ravel()]).reshape(rows.shape)
    return -np.log(distances + TINY_DISTANCE)


def dtw_similarity(records: list[SignatureRecord]) -> Callable[[WriterTrial], np.ndarray]:
    """A protocol trial's (pool, candidates) DTW similarity matrix, for the evaluation's scoring."""
    steps = feature_batch([r.trajectory for r in records], DTW_FEATURES)
    return lambda trial: dtw_similarity_matrix(steps[trial.pool], steps[trial.candidates])


def dtw_scores(reference_steps: np.ndarray, query_steps: np.ndarray) -> np.ndarray:
    """The DTW score (m,) of each query (m, steps, c) against one writer's references (k, steps, c),
    normalised by the references' spread (see the module docstring); one DTW pass for all the pairs."""
    k = len(reference_steps)
    upper = np.triu_indices(k, k=1)
    # The references' pairs and the queries' in one batch: the DTW's cost is per batch, not per pair.
    pairs_a = np.concatenate([reference_steps[upper[0]], np.repeat(reference_steps, len(query_steps), 0)])
    pairs_b = np.concatenate([reference_steps[upper[1]], np.tile(query_steps, (k, 1, 1))])
    similarity = -np.log(dtw_distances(pairs_a, pairs_b) + TINY_DISTANCE)
    among = np.zeros((k, k))
    among[upper] = similarity[: len(upper[0])]
    among = among + among.T
    to_query = similarity[len(upper[0]) :].reshape(k, len(query_steps))
    return aggregate(to_query, among, DTW_AGGREGATION, DTW_NORMALISATION)
