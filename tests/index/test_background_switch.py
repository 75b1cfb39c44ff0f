"""HNSWSwitch: the graph is built beside the index (by a process of lower priority), catches up on rows
added meanwhile, and is dropped when rows are renumbered under it."""

import os
import threading

import faiss
import numpy as np
import pytest

from siamdup import Siamese
from siamdup.index import DuplicateIndex, background, duplicate_index

PATIENCE = 120  # seconds; only reached when the code under test is broken
builder_niceness: list[int] = []


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def held_build(monkeypatch: pytest.MonkeyPatch):
    """(building, release): the build of the graph waits for `release` before it starts."""
    building, release = threading.Event(), threading.Event()
    real = background.build_graph

    def held(*args, **kwargs):
        builder_niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        building.set()
        assert release.wait(PATIENCE)
        return real(*args, **kwargs)

    monkeypatch.setattr(background, "build_graph", held)
    monkeypatch.setattr(background, "LAST_ROWS", 5)  # so that catching up takes a round outside the locks
    monkeypatch.setattr(duplicate_index, "EXACT_MAX", 100)
    return building, release


def test_rows_added_during_the_build_are_in_the_swapped_graph(shipped_model: Siamese, held_build) -> None:
    building, release = held_build
    dim = shipped_model.dim
    index = DuplicateIndex(shipped_model)
    index.switch_in_background = True
    first, later = unit_vectors(101, dim, 0), unit_vectors(40, dim, 1)
    index.add([f"a{i}" for i in range(101)], ["q"] * 101, vectors=first)
    assert index.search_kind == "exact" and index.switch_due
    state, write = threading.Lock(), threading.Lock()
    switch = background.HNSWSwitch(index, state, write)
    assert switch.start() and building.wait(PATIENCE)
    ours = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert builder_niceness[-1] == ours  # the thread that shares the GIL with queries keeps their priority
    with write, state:  # an add while the graph is being built
        index.add([f"b{i}" for i in range(40)], ["q"] * 40, vectors=later)
    assert index.search_kind == "exact"
    release.set()
    assert switch.wait(PATIENCE) and switch.error is None and switch.seconds is not None
    assert switch.worker == {"niceness": min(19, ours + 10), "threads": 1}  # the build process: queries first
    assert index.search_kind == "hnsw" and index.rows == 141 and not index.switch_due
    scores, rows = index.search(np.concatenate([first[:3], later[-3:]]), 1)
    assert rows[:, 0].tolist() == [0, 1, 2, 138, 139, 140]
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


def test_a_graph_of_renumbered_rows_is_built_again(shipped_model: Siamese, held_build) -> None:
    building, release = held_build
    dim = shipped_model.dim
    index = DuplicateIndex(shipped_model)
    index.switch_in_background = True
    vectors = unit_vectors(110, dim, 2)
    index.add([str(i) for i in range(110)], ["q"] * 110, vectors=vectors)
    state, write = threading.Lock(), threading.Lock()
    switch = background.HNSWSwitch(index, state, write)
    assert switch.start() and building.wait(PATIENCE)
    with write, state:  # a compaction renumbers the rows under the build
        index.remove(["0", "1", "2"])
        index._rebuild("exact")
    release.set()
    assert switch.wait(PATIENCE) and switch.error is None
    assert index.search_kind == "hnsw" and index.rows == 107
    _, rows = index.search(vectors[3:6], 1)
    assert [index.matches(np.ones(1), r)[0].id for r in rows] == ["3", "4", "5"]


def test_a_stopped_build_leaves_the_index_exact(shipped_model: Siamese, held_build) -> None:
    building, release = held_build
    index = DuplicateIndex(shipped_model)
    index.switch_in_background = True
    index.add([str(i) for i in range(101)], ["q"] * 101, vectors=unit_vectors(101, shipped_model.dim, 3))
    switch = background.HNSWSwitch(index, threading.Lock(), threading.Lock())
    assert switch.start() and building.wait(PATIENCE)
    stopper = threading.Thread(target=switch.stop)
    stopper.start()
    release.set()
    stopper.join(PATIENCE)
    assert not switch.running and index.search_kind == "exact" and not switch.start()


def test_without_the_flag_add_still_switches_at_once(shipped_model: Siamese, monkeypatch) -> None:
    monkeypatch.setattr(duplicate_index, "EXACT_MAX", 100)
    index = DuplicateIndex(shipped_model)
    index.add([str(i) for i in range(101)], ["q"] * 101, vectors=unit_vectors(101, shipped_model.dim, 4))
    assert index.search_kind == "hnsw"


def test_the_build_process_makes_the_graph_an_in_process_build_makes(shipped_model: Siamese) -> None:
    index = DuplicateIndex(shipped_model)
    vectors = unit_vectors(2_000, shipped_model.dim, 5)
    made = background.build_graph(index._new_faiss("hnsw"), vectors, threading.Event(), 1, 10)
    assert made is not None
    graph, _ = made
    here = index._new_faiss("hnsw")
    faiss.omp_set_num_threads(1)  # one thread: the insertion order, so the graph, is the same
    here.add(vectors)
    assert graph.ntotal == here.ntotal == 2_000
    for built in (graph, here):
        built.hnsw.efSearch = 64
    np.testing.assert_array_equal(graph.search(vectors[:100], 5)[1], here.search(vectors[:100], 5)[1])


def test_a_failed_build_process_leaves_the_index_exact_and_says_why(
    shipped_model: Siamese, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duplicate_index, "EXACT_MAX", 100)
    monkeypatch.setattr(background, "BUILD_NICENESS", "not a number")  # the worker exits on its arguments
    index = DuplicateIndex(shipped_model)
    index.switch_in_background = True
    index.add([str(i) for i in range(101)], ["q"] * 101, vectors=unit_vectors(101, shipped_model.dim, 6))
    switch = background.HNSWSwitch(index, threading.Lock(), threading.Lock())
    assert switch.start() and switch.wait(PATIENCE)
    assert index.search_kind == "exact" and isinstance(switch.error, RuntimeError)
    assert "HNSW build process failed" in str(switch.error) and "ValueError" in str(switch.error)
