"""Compressed candidate search: recall@10 against exact search, memory per question, exact similarities."""

from pathlib import Path

import faiss
import numpy as np
import pytest
from scale_samples import clustered_vectors, store_of

from siamdup.index.dedupe import group_links, neighbour_links
from siamdup.scale.compressed import (
    CompressedSettings,
    add_store,
    bytes_per_question,
    reranked_search,
    train_index,
)
from siamdup.scale.dedupe import dedupe_store


def recall_at(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]))


@pytest.mark.parametrize("compression, max_bytes", [("sq8", 48), ("pq", 32)])
def test_recall_at_10_against_exact_search(tmp_path: Path, compression: str, max_bytes: float) -> None:
    vectors = clustered_vectors(20_000, dim=32)
    store = store_of(vectors, tmp_path / "emb")
    settings = CompressedSettings(compression=compression, nprobe=8)
    index = train_index(store, settings)
    add_store(index, store)
    queries = vectors[:2000]
    scores, found = reranked_search(index, store, settings)(queries, 10)
    exact_index = faiss.IndexFlatIP(32)
    exact_index.add(vectors)
    _, exact = exact_index.search(queries, 10)
    assert recall_at(found, exact) > 0.95
    assert bytes_per_question(index) < max_bytes  # float32 vectors take 128
    rows = np.maximum(found, 0)
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, vectors[rows]), atol=1e-5)  # exact


def test_compressed_dedupe_groups_equal_exact_ones_when_every_cell_is_scanned(tmp_path: Path) -> None:
    vectors = clustered_vectors(6000, dim=32, clusters=800)
    store = store_of(vectors, tmp_path / "emb", shard_size=1000)
    tau, k = 0.9, 10
    settings = CompressedSettings(compression="sq8", nlist=16, nprobe=16, fetch=3)
    compressed = dedupe_store(store, tau, k=k, settings=settings).result
    exact_index = faiss.IndexFlatIP(32)
    exact_index.add(vectors)
    exact = group_links(len(vectors), *neighbour_links(exact_index.search, vectors, k, tau), tau)
    assert exact.groups and compressed.groups == exact.groups
    assert compressed.n_links == exact.n_links
    for ours, theirs in zip(compressed.similarities, exact.similarities, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
