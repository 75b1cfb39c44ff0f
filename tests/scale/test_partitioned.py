"""Partitioned dedupe and the sharded index give exactly what one process's exhaustive search gives."""

import faiss
import numpy as np
import pytest
from scale_samples import clustered_vectors, store_of

from siamdup.index.dedupe import group_links, neighbour_links
from siamdup.scale.partition import partition
from siamdup.scale.partitioned import partitioned_dedupe
from siamdup.scale.sharded import ShardedIndex

N, DIM, TAU, K = 20_000, 32, 0.9, 10


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    vectors = clustered_vectors(N, dim=DIM, clusters=3000, seed=2, topics=40)
    store = store_of(vectors, tmp_path_factory.mktemp("partitioned") / "emb", shard_size=5000)
    return vectors, store, partition(store, cells=40, seed=0)


def single_process(vectors: np.ndarray, search) -> object:
    """The single-process dedupe's own link search and group forming."""
    return group_links(len(vectors), *neighbour_links(search, vectors, K, TAU), TAU)


def exact_index(vectors: np.ndarray) -> faiss.Index:
    index = faiss.IndexFlatIP(DIM)
    index.add(vectors)
    return index


def assert_same_groups(ours, theirs) -> None:
    assert len(theirs.groups) > 1000  # the corpus has many duplicates at this τ
    assert ours.groups == theirs.groups
    assert ours.n_links == theirs.n_links
    for a, b in zip(ours.similarities, theirs.similarities, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_partitions_searched_by_their_bound_equal_exhaustive_search(corpus) -> None:
    vectors, store, parts = corpus
    ours = partitioned_dedupe(store, TAU, k=K, nprobe=None, parts=parts)
    assert_same_groups(ours, single_process(vectors, exact_index(vectors).search))


def test_partitions_with_nprobe_equal_an_ivf_search_with_the_same_cells(corpus) -> None:
    vectors, store, parts = corpus
    quantizer = faiss.IndexFlatIP(DIM)
    ivf = faiss.IndexIVFFlat(quantizer, DIM, parts.cells, faiss.METRIC_INNER_PRODUCT)
    ivf.train(parts.centroids)  # k-means on the centroids themselves keeps them
    quantizer.reset()
    quantizer.add(parts.centroids)
    ivf.add(vectors)
    ivf.nprobe = 3
    ours = partitioned_dedupe(store, TAU, k=K, nprobe=3, parts=parts)
    assert_same_groups(ours, single_process(vectors, ivf.search))


def test_ray_partitions_equal_one_process(corpus, ray_cluster) -> None:
    from siamdup.scale.ray_engine import ray_runner

    vectors, store, parts = corpus
    assert ray_cluster.is_initialized()
    ours = partitioned_dedupe(store, TAU, k=K, nprobe=None, parts=parts, runner=ray_runner)
    assert_same_groups(ours, single_process(vectors, exact_index(vectors).search))


def test_sharded_top_k_equals_unsharded_top_k(corpus) -> None:
    vectors, store, parts = corpus
    sharded = ShardedIndex(parts, store)
    queries = np.vstack([vectors[:500], clustered_vectors(500, dim=DIM, clusters=3000, seed=2, topics=40)])
    scores, rows = sharded.search(queries, 10)
    expected_scores, expected_rows = exact_index(vectors).search(queries, 10)
    np.testing.assert_array_equal(rows, expected_rows)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-5)
    assert sharded.visits < len(queries) * parts.cells / 2  # most shards are never asked
