"""Dedupe of an embeddings folder with compressed candidate search: memory holds codes, not floats.

Groups are formed by `siamdup.index.dedupe.group_links`, exactly as the in-memory dedupe forms them; only
the candidate search differs (see `compressed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import faiss
import numpy as np

from siamdup.index.dedupe import DedupeResult, Phases, group_links, neighbour_links
from siamdup.scale.compressed import (
    CompressedSettings,
    add_store,
    bytes_per_question,
    reranked_search,
    train_index,
)
from siamdup.scale.store import EmbeddingStore


@dataclass
class StoreDedupe:
    result: DedupeResult
    bytes_per_question: float  # of the compressed index in memory
    seconds: dict[str, float] = field(default_factory=dict)  # per phase
    index: faiss.Index | None = None  # the compressed index, when asked to keep it


def dedupe_store(
    store: EmbeddingStore,
    threshold: float,
    *,
    k: int = 10,
    settings: CompressedSettings | None = None,
    phases: Phases | None = None,
    keep_index: bool = False,
) -> StoreDedupe:
    """Groups of duplicates among the questions of `store` (see the module docstring)."""
    settings = settings or CompressedSettings()
    n = len(store)
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = time.perf_counter() - clock
        clock = time.perf_counter()

    def phase(description: str, total: int = n) -> Callable[[int], None] | None:
        return phases(description, total) if phases else None

    index = train_index(store, settings)
    lap("train")
    add_store(index, store, phase("indexing"))
    lap("add")
    search = reranked_search(index, store, settings)
    advance = phase("searching")
    links = [
        neighbour_links(search, vectors, k, threshold, advance, first_row=start)
        for start, vectors in store.chunks()
    ]
    source, target, similarity = (np.concatenate(part) for part in zip(*links, strict=True))
    lap("search")
    size = bytes_per_question(index)
    kept = index if keep_index else None
    del index  # freed before the groups are formed, unless kept
    result = group_links(n, source, target, similarity, threshold)
    lap("groups")
    return StoreDedupe(result, size, seconds, kept)
