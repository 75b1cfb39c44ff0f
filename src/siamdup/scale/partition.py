"""A corpus partitioned into k-means cells, each searched on its own (by a worker, a machine, a shard).

Every vector belongs to the cell of its nearest centroid. A question looks for its neighbours in the
`nprobe` cells nearest to it (None: every cell), skipping any cell that cannot hold a vector more similar
than τ: for unit vectors, a cell whose members lie within the angle r of its centroid, seen from a query at
the angle θ from that centroid, holds nothing more similar than cos(max(0, θ − r)). So pairs across cell
boundaries are found, and with `nprobe=None` the links above τ are exactly those of an exhaustive search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np

from siamdup.scale.store import EmbeddingStore

BOUND_MARGIN = 1e-4  # float rounding in the bound must never skip a cell that holds a link


@dataclass
class Partitioning:
    """Centroids, the cell of each row, and each cell's angular radius."""

    centroids: np.ndarray  # (cells, dim), unit
    cell_of: np.ndarray  # (n,) the cell of each row
    radius: np.ndarray  # (cells,) the largest angle between a cell's centroid and a member

    @property
    def cells(self) -> int:
        return len(self.centroids)

    def members(self) -> list[np.ndarray]:
        """The rows of each cell, ascending."""
        order = np.argsort(self.cell_of, kind="stable")
        bounds = np.searchsorted(self.cell_of[order], np.arange(self.cells + 1))
        return [order[bounds[c] : bounds[c + 1]] for c in range(self.cells)]

    def probes(self, queries: np.ndarray, nprobe: int | None, tau: float) -> tuple[np.ndarray, np.ndarray]:
        """(cells, probed): each query's `nprobe` nearest cells, nearest first, and whether each may hold a
        vector more similar than `tau`."""
        count = self.cells if nprobe is None else min(nprobe, self.cells)
        quantizer = faiss.IndexFlatIP(self.centroids.shape[1])
        quantizer.add(self.centroids)
        similarity, cells = quantizer.search(np.ascontiguousarray(queries), count)
        angle = np.arccos(np.clip(similarity, -1.0, 1.0))
        bound = np.cos(np.maximum(0.0, angle - self.radius[cells]))
        return cells, bound > tau - BOUND_MARGIN


def default_cells(n: int) -> int:
    """About √n / 4 cells (at least 1): a few thousand questions a cell at a million."""
    return max(1, round(math.sqrt(n) / 4))


def partition(store: EmbeddingStore, cells: int, *, sample: int = 100_000, seed: int = 0) -> Partitioning:
    """Spherical k-means on a sample of `store`, then every row assigned to its nearest centroid."""
    kmeans = faiss.Kmeans(
        store.dim, cells, niter=20, spherical=True, seed=seed, max_points_per_centroid=1 << 20
    )
    kmeans.train(store.sample(min(len(store), max(sample, cells)), seed))
    centroids = kmeans.centroids / np.linalg.norm(kmeans.centroids, axis=1, keepdims=True)
    quantizer = faiss.IndexFlatIP(store.dim)
    quantizer.add(centroids.astype(np.float32))
    cell_of = np.empty(len(store), dtype=np.int64)
    radius = np.zeros(cells)
    for start, vectors in store.chunks():
        similarity, nearest = quantizer.search(vectors, 1)
        cell_of[start : start + len(vectors)] = nearest[:, 0]
        angle = np.arccos(np.clip(similarity[:, 0], -1.0, 1.0))
        np.maximum.at(radius, nearest[:, 0], angle)
    return Partitioning(centroids.astype(np.float32), cell_of, radius)
