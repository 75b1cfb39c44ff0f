"""Dedupe by partitions: each cell's questions find their neighbours in the cells they probe (on this
process or on Ray workers), then groups are formed from all links exactly as the single-process dedupe
forms them (`siamdup.index.dedupe.group_links`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import faiss
import numpy as np

from siamdup.index.dedupe import DedupeResult, group_links
from siamdup.scale.compressed import NPROBE
from siamdup.scale.partition import Partitioning, default_cells, partition
from siamdup.scale.store import EmbeddingStore

Links = tuple[np.ndarray, np.ndarray, np.ndarray]  # (source, target, similarity)
Task = tuple[np.ndarray, np.ndarray, np.ndarray]  # (query rows, their probed cells, whether each is probed)


def search_partition(directory: str, task: Task, members: list[np.ndarray], k: int, tau: float) -> Links:
    """The links of one partition's questions: their k nearest others above τ among the cells they probe.

    Reads the vectors it needs from the embeddings folder, so it runs wherever that folder is readable.
    """
    store = EmbeddingStore.open(directory, verify=False)
    rows, cells, probed = task
    queries = store.gather(rows)
    searched = np.unique(cells[probed])
    needed = np.unique(np.concatenate([members[c] for c in searched.tolist()]))
    vectors = store.gather(needed)  # read once; each cell's members are looked up in it
    wanted = k + 1  # the nearest is usually the question itself
    best_score = np.full((len(rows), wanted), -np.inf, dtype=np.float32)
    best_row = np.full((len(rows), wanted), -1, dtype=np.int64)
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)  # many small searches: a partition is the unit of parallelism
    try:
        for cell in searched.tolist():
            asking = np.flatnonzero(((cells == cell) & probed).any(axis=1))
            member_rows = members[cell]
            index = faiss.IndexFlatIP(store.dim)
            index.add(vectors[np.searchsorted(needed, member_rows)])
            score, found = index.search(queries[asking], min(wanted, len(member_rows)))
            found_rows = np.where(found >= 0, member_rows[np.maximum(found, 0)], -1)
            both_scores = np.hstack([best_score[asking], score])
            both_rows = np.hstack([best_row[asking], found_rows])
            order = np.lexsort((both_rows, -both_scores), axis=1)[:, :wanted]  # best first; ties by row
            best_score[asking] = np.take_along_axis(both_scores, order, 1)
            best_row[asking] = np.take_along_axis(both_rows, order, 1)
    finally:
        faiss.omp_set_num_threads(threads)
    linked = (best_score > tau) & (best_row >= 0) & (best_row != rows[:, None])
    return np.broadcast_to(rows[:, None], best_row.shape)[linked], best_row[linked], best_score[linked]


def partition_tasks(
    parts: Partitioning, store: EmbeddingStore, nprobe: int | None, tau: float
) -> Iterator[Task]:
    """One task per non-empty cell: its questions and the cells each of them probes."""
    for rows in parts.members():
        if len(rows):
            cells, probed = parts.probes(store.gather(rows), nprobe, tau)
            yield rows, cells, probed


Runner = Callable[[str, list[Task], list[np.ndarray], int, float], Iterator[Links]]


def run_locally(
    directory: str, tasks: list[Task], members: list[np.ndarray], k: int, tau: float
) -> Iterator[Links]:
    for task in tasks:
        yield search_partition(directory, task, members, k, tau)


def partitioned_dedupe(
    store: EmbeddingStore,
    tau: float,
    *,
    k: int = 10,
    cells: int | None = None,
    nprobe: int | None = NPROBE,
    runner: Runner = run_locally,
    parts: Partitioning | None = None,
    progress: Callable[[int], None] | None = None,
) -> DedupeResult:
    """Groups of duplicates of `store`, its candidates searched partition by partition by `runner`.

    With `nprobe=None` every cell that may hold a link is searched, so the groups equal an exhaustive
    search's; with `nprobe=n` they equal an IVF search's with the same centroids and n probes.
    """
    parts = parts or partition(store, cells or default_cells(len(store)))
    members = parts.members()
    tasks = list(partition_tasks(parts, store, nprobe, tau))
    found = []
    for links in runner(str(Path(store.directory)), tasks, members, k, tau):
        found.append(links)
        if progress:
            progress(1)
    source, target, similarity = (np.concatenate(part) for part in zip(*found, strict=True))
    order = np.lexsort((target, -similarity, source))  # the order a single search lists them in
    return group_links(len(store), source[order], target[order], similarity[order], tau)
