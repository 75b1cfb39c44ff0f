"""Batches of duplicate pairs in which no two pairs share a duplicate cluster.

Then every off-diagonal cell of the batch similarity matrix S = V1·V2ᵀ compares two questions that are
not duplicates of each other: a true negative for the triplet and softmax losses.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence


class ClusterDisjointBatchSampler:
    """Yields lists of pair indices; `clusters[i]` is the duplicate cluster of pair i.

    Each epoch shuffles the pairs (seeded by `seed + epoch`, so runs and resumes are reproducible) and
    fills batches greedily; a pair whose cluster is already in the batch waits for a later batch. Pairs
    of very large clusters that cannot be placed once the others run out are left for the next epoch
    (`drop_last=True`) or end in a last, smaller batch.
    """

    def __init__(
        self, clusters: Sequence[int], batch_size: int, seed: int = 0, drop_last: bool = True
    ) -> None:
        if batch_size < 2:
            raise ValueError("batch_size must be at least 2: a batch needs negatives")
        self.clusters = list(clusters)
        self.batch_size = batch_size
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        """An upper bound: the number of batches if no pair had to be left out."""
        return len(self.clusters) // self.batch_size

    def __iter__(self) -> Iterator[list[int]]:
        order = list(range(len(self.clusters)))
        random.Random(self.seed + self.epoch).shuffle(order)
        batch: list[int] = []
        in_batch: set[int] = set()
        while order:
            waiting = []
            for i in order:
                if self.clusters[i] in in_batch:
                    waiting.append(i)
                    continue
                batch.append(i)
                in_batch.add(self.clusters[i])
                if len(batch) == self.batch_size:
                    yield batch
                    batch, in_batch = [], set()
            if len(waiting) == len(order):  # nothing could be placed: only one cluster's pairs are left
                break
            order = waiting
        if batch and not self.drop_last and len(batch) >= 2:
            yield batch
