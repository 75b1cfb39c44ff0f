import numpy as np
import pytest

from siamdup.data.mining import mine_hard_negatives


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def slow_mine(
    anchors, positive_similarity, anchor_clusters, pool, pool_clusters, k, ratio, width=64
) -> list[list[int]]:
    """The plain loop: of the `width` most similar pool vectors, those of another cluster below
    ratio · positive, most similar first."""
    out = []
    for a, pos, c in zip(anchors, positive_similarity, anchor_clusters, strict=True):
        scored = sorted(((float(a @ v), j) for j, v in enumerate(pool)), reverse=True)[:width]
        out.append([j for s, j in scored if pool_clusters[j] != c and s < ratio * pos][:k])
    return out


def test_exact_mining_matches_a_slow_loop() -> None:
    rng = np.random.default_rng(0)
    pool = unit(rng, 400, 8)
    pool_clusters = rng.integers(0, 60, 400)
    picks = rng.choice(400, 50, replace=False)
    anchors = pool[picks]
    anchor_clusters = pool_clusters[picks]
    positive_similarity = rng.uniform(0.3, 1.0, 50).astype(np.float32)
    fast = mine_hard_negatives(
        anchors, positive_similarity, anchor_clusters, pool, pool_clusters, k=5, ratio=0.9
    )
    slow = slow_mine(anchors, positive_similarity, anchor_clusters, pool, pool_clusters, k=5, ratio=0.9)
    assert [row.tolist() for row in fast] == slow
    assert any(len(row) < 5 for row in slow)  # the similarity cap does bite in this draw
    assert sum(len(row) for row in slow) > 100


def test_approximate_mining_keeps_the_rules_and_finds_most_neighbours() -> None:
    rng = np.random.default_rng(1)
    centres = unit(rng, 300, 16)
    pool = centres[rng.integers(0, 300, 12_000)] + 0.3 * unit(
        rng, 12_000, 16
    )  # clumpy, as real questions are
    pool = (pool / np.linalg.norm(pool, axis=1, keepdims=True)).astype(np.float32)
    pool_clusters = rng.integers(0, 5_000, 12_000)
    picks = rng.choice(12_000, 100, replace=False)
    anchors, anchor_clusters = pool[picks], pool_clusters[picks]
    positive_similarity = np.full(100, 1.0, dtype=np.float32)
    fast = mine_hard_negatives(anchors, positive_similarity, anchor_clusters, pool, pool_clusters, k=10)
    slow = slow_mine(anchors, positive_similarity, anchor_clusters, pool, pool_clusters, k=10, ratio=0.95)
    found = 0
    for row, expected, a, c in zip(fast, slow, anchors, anchor_clusters, strict=True):
        assert len(row) <= 10
        assert (pool_clusters[row] != c).all()
        assert (pool[row] @ a < 0.95).all()
        found += len(set(row.tolist()) & set(expected))
    assert found / sum(len(e) for e in slow) > 0.8  # recall of the IVF search against brute force


@pytest.mark.parametrize("n", [1, 3])
def test_tiny_pools_and_no_candidates(n: int) -> None:
    pool = np.eye(n, 4, dtype=np.float32)
    same_cluster = np.zeros(n, dtype=int)
    mined = mine_hard_negatives(pool, np.ones(n, dtype=np.float32), same_cluster, pool, same_cluster)
    assert [len(row) for row in mined] == [0] * n  # every candidate is in the anchor's own cluster
