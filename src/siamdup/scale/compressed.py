"""Candidate search on compressed vectors, for corpora whose float vectors do not fit in memory.

The vectors stay on disk in an embeddings folder; memory holds a FAISS IVF index of compressed codes:
8-bit scalar quantization ("sq8", a quarter of the floats) or 4-bit product quantization with FAISS's
fast-scan kernels ("pq", 4 bits per 2 dimensions: 64 bytes for 256). The coarse quantizer (k-means cells, `nlist`) lets a
query scan only the `nprobe` cells nearest to it. Each query fetches more candidates than it needs and
ranks them again by their exact cosine, read from the shards on disk, so links and their similarities are
exact; only which candidates are seen is approximate (measured as recall@10 against exact search).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import faiss
import numpy as np

from siamdup.scale.store import EmbeddingStore

COMPRESSIONS = ("sq8", "pq")
ADD_CHUNK = 65_536
PQ_MIN = 1000
NPROBE = 32  # cells each query scans by default; recall against time is measured in the scale-out results

Progress = Callable[[int], None]


@dataclass(frozen=True)
class CompressedSettings:
    """How the compressed index is built and searched."""

    compression: str = "pq"
    nlist: int | None = None  # k-means cells; None: see `cells`
    nprobe: int = NPROBE  # cells each query scans
    fetch: int = 4  # candidates fetched per wanted neighbour, then ranked by exact cosine
    train_per_cell: int = 40  # training vectors per cell (FAISS wants at least 39)
    seed: int = 0

    def cells(self, n: int) -> int:
        """`nlist`, or about 2·√n cells (a power of two) with enough training vectors for each."""
        if self.nlist is not None:
            return self.nlist
        auto = 2 ** round(math.log2(2 * math.sqrt(max(n, 1))))
        return max(1, min(auto, 65_536, n // self.train_per_cell))

    def factory(self, dim: int, n: int) -> str:
        if self.compression not in COMPRESSIONS:
            raise ValueError(
                f"unknown compression {self.compression!r}; expected one of {', '.join(COMPRESSIONS)}"
            )
        # Product quantization learns 16 codes per part: below PQ_MIN vectors scalar codes are used instead.
        codes = "SQ8" if self.compression == "sq8" or n < PQ_MIN else f"PQ{dim // 2}x4fs"
        return f"IVF{self.cells(n)},{codes}"


def bytes_per_question(index: faiss.Index) -> float:
    """Memory the index takes per stored vector: its codes and ids, as FAISS serializes them."""
    return len(faiss.serialize_index(index)) / max(index.ntotal, 1)


def train_index(store: EmbeddingStore, settings: CompressedSettings) -> faiss.Index:
    """An empty IVF index trained on a random sample of the store's vectors."""
    n = len(store)
    index = faiss.index_factory(store.dim, settings.factory(store.dim, n), faiss.METRIC_INNER_PRODUCT)
    cells = settings.cells(n)
    sample = store.sample(min(n, max(cells * settings.train_per_cell, 10_000)), settings.seed)
    faiss.extract_index_ivf(index).cp.seed = settings.seed  # reproducible k-means
    index.train(sample)
    faiss.extract_index_ivf(index).nprobe = settings.nprobe
    return index


def add_store(index: faiss.Index, store: EmbeddingStore, progress: Progress | None = None) -> None:
    """Add every vector of the store, shard by shard, in row order (FAISS ids are row numbers)."""
    for _, vectors in store.chunks():
        for start in range(0, len(vectors), ADD_CHUNK):
            index.add(vectors[start : start + ADD_CHUNK])
            if progress:
                progress(len(vectors[start : start + ADD_CHUNK]))


def reranked_search(
    index: faiss.Index, store: EmbeddingStore, settings: CompressedSettings
) -> Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]:
    """A `search(vectors, k)` giving each query's k best candidates by exact cosine, best first."""

    def search(queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        fetch = max(k, k * settings.fetch)
        _, rows = index.search(np.ascontiguousarray(queries), fetch)
        found = rows >= 0
        candidates = store.gather(np.where(found, rows, 0)).reshape(*rows.shape, store.dim)
        exact = np.einsum("qd,qcd->qc", queries, candidates)
        exact[~found] = -np.inf
        best = np.argsort(-exact, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(exact, best, 1), np.where(
            np.take_along_axis(found, best, 1), np.take_along_axis(rows, best, 1), -1
        )

    return search
