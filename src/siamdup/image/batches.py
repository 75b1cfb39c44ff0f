"""Class-disjoint batches of drawing pairs: the duplicate-cluster rule of text training, for classes.

Each epoch pairs every class's drawings at random (k drawings → k // 2 pairs) and deals the pairs out with
`ClusterDisjointBatchSampler`, the class as the cluster: a batch never holds two pairs of one class, so every
off-diagonal cell of the batch similarity matrix compares two different characters, a true negative.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from siamdup.data.sampler import ClusterDisjointBatchSampler


def epoch_pairs(n_classes: int, n_drawings: int, seed: int) -> np.ndarray:
    """(pairs, 3) rows of (class, drawing a, drawing b): each class's drawings paired at random, each once."""
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n_classes, n_drawings)), axis=1)[:, : n_drawings // 2 * 2]
    a, b = order[:, 0::2], order[:, 1::2]
    classes = np.repeat(np.arange(n_classes), a.shape[1])
    return np.stack([classes, a.ravel(), b.ravel()], axis=1)


def class_disjoint_batches(
    n_classes: int, n_drawings: int, classes_per_batch: int, seed: int, epoch: int
) -> Iterator[np.ndarray]:
    """The epoch's batches: arrays (classes_per_batch, 3) of (class, drawing a, drawing b), classes distinct."""
    if n_drawings < 2:
        raise ValueError("each class needs at least two drawings to make a pair")
    if classes_per_batch > n_classes:
        raise ValueError(
            f"a batch of {classes_per_batch} classes needs that many classes; there are {n_classes}"
        )
    pairs = epoch_pairs(n_classes, n_drawings, seed * 1_000_003 + epoch)
    sampler = ClusterDisjointBatchSampler(pairs[:, 0].tolist(), classes_per_batch, seed=seed)
    sampler.set_epoch(epoch)
    for rows in sampler:
        yield pairs[rows]


def batches_per_epoch(n_classes: int, n_drawings: int, classes_per_batch: int) -> int:
    return n_classes * (n_drawings // 2) // classes_per_batch
