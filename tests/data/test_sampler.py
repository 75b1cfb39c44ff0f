import random
from collections import Counter

import pytest

from siamdup.data.clusters import Clusters
from siamdup.data.readers import Pair
from siamdup.data.sampler import ClusterDisjointBatchSampler


def random_duplicates(seed: int, n_questions: int = 400, n_pairs: int = 600) -> list[Pair]:
    """Random duplicate pairs over a small pool, so long chains and big clusters form."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n_pairs):
        a, b = rng.sample(range(n_questions), 2)
        pairs.append(Pair(f"question {a}", f"question {b}", 1))
    return pairs


def duplicate_closure(pairs: list[Pair]) -> dict[str, set[str]]:
    """Brute force: every question's duplicate set by repeated graph search."""
    graph: dict[str, set[str]] = {}
    for p in pairs:
        graph.setdefault(p.question1, set()).add(p.question2)
        graph.setdefault(p.question2, set()).add(p.question1)
    closure = {}
    for start in graph:
        seen, stack = {start}, [start]
        while stack:
            for nxt in graph[stack.pop()] - seen:
                seen.add(nxt)
                stack.append(nxt)
        closure[start] = seen
    return closure


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("batch_size", [2, 8, 32])
def test_no_batch_holds_two_duplicates(seed: int, batch_size: int) -> None:
    pairs = random_duplicates(seed, n_questions=1500 + 500 * seed, n_pairs=500)
    clusters = Clusters(pairs)
    closure = duplicate_closure(pairs)
    sampler = ClusterDisjointBatchSampler([clusters.pair_cluster(p) for p in pairs], batch_size, seed=seed)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        seen = Counter()
        for batch in sampler:
            assert len(batch) == batch_size
            seen.update(batch)
            for i in batch:
                for j in batch:
                    if i != j:  # every off-diagonal cell of S must compare non-duplicates
                        assert pairs[j].question2 not in closure[pairs[i].question1]
                        assert pairs[j].question1 not in closure[pairs[i].question1]
        assert sum(seen.values()) >= len(pairs) // 2  # most pairs are placed
        assert max(seen.values()) == 1  # a pair appears at most once an epoch


def test_epochs_differ_and_runs_repeat() -> None:
    clusters = list(range(100))
    s = ClusterDisjointBatchSampler(clusters, 10, seed=3)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first
    s.set_epoch(0)
    assert list(s) == first
    assert sorted(i for b in first for i in b) == list(range(100))


def test_giant_cluster_is_spread_and_leftovers_handled() -> None:
    clusters = [0] * 20 + list(range(1, 41))  # 20 pairs of one cluster, 40 singletons
    kept = list(ClusterDisjointBatchSampler(clusters, 4, drop_last=True))
    assert all(sum(clusters[i] == 0 for i in b) <= 1 for b in kept)
    # Each batch holds at most one pair of cluster 0, so three singletons: 40 // 3 = 13 batches is the optimum.
    assert len(kept) == 13
    tail = list(ClusterDisjointBatchSampler(clusters, 4, drop_last=False))
    assert tail[: len(kept)] == kept and len(tail) - len(kept) <= 1  # at most one smaller, still valid, batch
    assert all(len({clusters[i] for i in b}) == len(b) >= 2 for b in tail)
    with pytest.raises(ValueError):
        ClusterDisjointBatchSampler(clusters, 1)
