"""Baselines that need no training, scored on the same one-shot runs as the CNN.

- Modified Hausdorff Distance (Dubuisson & Jain 1994), the reference baseline shipped with Omniglot
  (`demo_classification.py`): each drawing is the set of its ink pixels' coordinates, centred on their mean;
  the cost of two sets is max(mean distance from each point of A to its nearest in B, and from B to A).
- Nearest neighbour on raw pixels: the cosine of the flattened images.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from siamdup.image.omniglot import OneShotRun

INK = 0.5  # a pixel at least this dark is ink


def ink_points(image: np.ndarray) -> np.ndarray:
    """(n, 2) float64 row/column coordinates of the ink pixels, centred on their mean."""
    points = np.argwhere(image >= INK).astype(np.float64)
    return points - points.mean(axis=0) if len(points) else points


def squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) squared Euclidean distances, clipped at 0 against rounding."""
    squared = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * a @ b.T
    return np.maximum(squared, 0.0, out=squared)


def hausdorff_costs(query: np.ndarray, candidates: Sequence[np.ndarray]) -> np.ndarray:
    """Modified Hausdorff distance from the point set `query` to each candidate point set, in one distance
    matrix; a set without points is infinitely far from every other."""
    counts = np.array([len(c) for c in candidates])
    costs = np.full(len(candidates), np.inf)
    present = counts > 0
    if not len(query) or not present.any():
        return costs
    kept = [c for c in candidates if len(c)]
    starts = np.concatenate([[0], np.cumsum(counts[present])[:-1]])
    # Nearest neighbours by squared distance (one matrix product); the root only of the minima kept.
    squared = squared_distances(query, np.concatenate(kept))
    query_to_candidate = np.sqrt(np.minimum.reduceat(squared, starts, axis=1)).mean(axis=0)
    candidate_to_query = np.add.reduceat(np.sqrt(squared.min(axis=0)), starts) / counts[present]
    costs[present] = np.maximum(query_to_candidate, candidate_to_query)
    return costs


def run_hausdorff_scores(run: OneShotRun) -> np.ndarray:
    """Scores (test items, training images) of one run: minus the MHD cost."""
    training = [ink_points(image) for image in run.training]
    return np.array([-hausdorff_costs(ink_points(item), training) for item in run.test])


def hausdorff_scores(runs: Sequence[OneShotRun], workers: int = 1) -> np.ndarray:
    """Scores (runs, test items, training images) to pick the best match by: minus the MHD cost; the runs
    shared among `workers` processes."""
    if workers <= 1:
        return np.array([run_hausdorff_scores(run) for run in runs])
    with ProcessPoolExecutor(workers) as pool:
        return np.array(list(pool.map(run_hausdorff_scores, runs)))


def pixel_scores(runs: Sequence[OneShotRun]) -> np.ndarray:
    """Scores (runs, test items, training images): the cosine of the raw pixels."""

    def unit(images: np.ndarray) -> np.ndarray:
        flat = images.reshape(*images.shape[:-2], -1).astype(np.float64)
        return flat / np.maximum(np.linalg.norm(flat, axis=-1, keepdims=True), 1e-12)

    test = unit(np.stack([run.test for run in runs]))
    training = unit(np.stack([run.training for run in runs]))
    return np.einsum("rmd,rnd->rmn", test, training)
