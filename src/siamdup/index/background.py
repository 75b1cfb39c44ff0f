"""Switching a growing index from exact to HNSW search while it keeps answering.

`DuplicateIndex` with kind "auto" searches exactly up to EXACT_MAX questions. In a server
(`switch_in_background = True`) the add that passes the limit stays exact and `HNSWSwitch` builds the
graph beside it: a thread hands a copy of the stored vectors to a worker process (`hnsw_build`), which
builds the graph at a lower priority with `threads` OpenMP threads, then the thread catches up on the
rows added meanwhile and swaps the graph in under the locks only for the last few rows. Queries keep being
answered from the exact index the whole time, and the thread that shares the GIL with them only waits.

The caller's two locks: `state_lock` guards FAISS and the entries (held for each search and each
change), `write_lock` serialises writers (adds, saves): every change holds both. Order: `write_lock`
before `state_lock`. The build reads rows under `write_lock` alone, so queries never wait for its
copies or its last additions, only for the swap.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import faiss
import numpy as np

from siamdup.index.duplicate_index import DuplicateIndex
from siamdup.index.hnsw_build import build_graph

__all__ = ["HNSWSwitch", "add_in_chunks"]

CHUNK = 10_000  # vectors added to the graph between two looks at the stop flag
LAST_ROWS = 1_000  # at most about this many rows are added while writers wait for the swap
BUILD_NICENESS = 10  # the worker process's priority below the service's: queries go first

log = logging.getLogger(__name__)


def add_in_chunks(graph: faiss.Index, vectors: np.ndarray, stop: threading.Event) -> bool:
    """Add `vectors` to `graph`; False when stopped before the end (FAISS releases the GIL meanwhile)."""
    for start in range(0, len(vectors), CHUNK):
        if stop.is_set():
            return False
        graph.add(vectors[start : start + CHUNK])
    return True


class HNSWSwitch:
    """Builds the HNSW graph of `index` on a thread and swaps it in; see the module docstring."""

    def __init__(
        self,
        index: DuplicateIndex,
        state_lock: threading.Lock,
        write_lock: threading.Lock,
        on_done: Callable[[], None] | None = None,
        threads: int = 1,
    ) -> None:
        self.index = index
        self.threads = threads
        self.state_lock = state_lock
        self.write_lock = write_lock
        self.on_done = on_done
        self.seconds: float | None = None  # how long the last switch took
        self.error: BaseException | None = None
        self.worker: dict | None = None  # what the last build process reported: its niceness and threads
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start the build when one is due and none runs; True if it started."""
        if self.running or self._stop.is_set() or not self.index.switch_due:
            return False
        self._thread = threading.Thread(target=self._run, name="siamdup-hnsw-switch", daemon=True)
        self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a running build; True once none runs."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def stop(self) -> None:
        """Abandon a running build (the index stays exact) and start no other."""
        self._stop.set()
        self.wait()

    def _run(self) -> None:
        faiss.omp_set_num_threads(self.threads)  # OpenMP counts are per thread: query threads set theirs
        started = time.perf_counter()
        try:
            if self._build():
                self.seconds = time.perf_counter() - started
                log.info("switched to HNSW search in %.1f s", self.seconds)
        except Exception as e:  # the index keeps searching exactly; the error is shown by the server
            self.error = e
            log.exception("the HNSW build failed; searching exactly")
        if self.on_done is not None:
            self.on_done()

    def _build(self) -> bool:
        # Only writers change the rows: reading them under `write_lock` lets queries go on meanwhile.
        while not self._stop.is_set():
            with self.write_lock:
                generation, built = self.index.generation, self.index.rows
                vectors = self.index.row_vectors(0, built)
            built_graph = build_graph(
                self.index._new_faiss("hnsw"), vectors, self._stop, self.threads, BUILD_NICENESS
            )
            del vectors
            if built_graph is None:
                return False
            graph, self.worker = built_graph
            while True:  # catch up without blocking writers until few rows are left
                with self.write_lock:
                    if generation != self.index.generation:
                        break
                    rows = self.index.rows
                    fresh = None if rows - built <= LAST_ROWS else self.index.row_vectors(built, rows)
                if fresh is None:
                    if self._swap(graph, generation, built):
                        return True
                    break
                if not add_in_chunks(graph, fresh, self._stop):
                    return False
                built = rows
        return False

    def _swap(self, graph: faiss.Index, generation: int, built: int) -> bool:
        with self.write_lock:
            if generation != self.index.generation:
                return False  # rows were renumbered meanwhile: build again
            graph.add(self.index.row_vectors(built, self.index.rows))
            with self.state_lock:  # queries wait only for the swap itself
                self.index.swap_search(graph, generation)
        return True
