"""Answering /duplicates queries on one thread, those that wait together in one encoder pass and one search.

Each request hands its question to `QueryBatcher` and awaits the answer without holding a thread. One
worker thread takes every question waiting (up to `query_batch`), encodes them in one forward pass and
searches them in one FAISS call, so concurrent requests neither fight over the cores with their own
intra-op thread pools nor each scan an exact index: an exact search of several queries reads the stored
vectors once. Nothing waits on purpose for a batch to fill; questions arriving during a pass form the next.

`warm_up()` makes one pass before the service answers, so that the first users do not pay for starting
the worker thread and the first encoder and FAISS calls.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import faiss
import torch

from siamdup.index import Match
from siamdup.model.siamese import Siamese
from siamdup.serve.store import ServedIndex

log = logging.getLogger(__name__)


def limit_threads(threads: int) -> None:
    """Let torch and FAISS work run from the calling thread use at most `threads` threads (with OpenMP
    the count belongs to the thread that starts the work)."""
    torch.set_num_threads(threads)
    faiss.omp_set_num_threads(threads)


@dataclass
class _Query:
    question: str
    k: int
    answer: Future[list[Match]] = field(default_factory=Future)


class QueryBatcher:
    """Answers `duplicates(question, k)` from `store` with `model`; see the module docstring."""

    def __init__(self, model: Siamese, store: ServedIndex, batch: int, threads: int) -> None:
        self.model = model
        self.store = store
        self.batch = batch
        self.threads = threads
        self.batches = 0  # passes made, and questions answered in them
        self.answered = 0
        self.longest_pass = 0.0  # seconds: the slowest encoder pass + search so far
        self._waiting: queue.SimpleQueue[_Query | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._starting = threading.Lock()

    def close(self) -> None:
        """Answer what is waiting, then stop the worker (a later query starts another)."""
        with self._starting:
            if self._worker is not None:
                self._waiting.put(None)
                self._worker.join()
                self._worker = None

    def describe(self) -> dict:
        """Questions answered, encoder passes made and the slowest pass so far."""
        return {
            "answered": self.answered,
            "batches": self.batches,
            "longest_pass_ms": round(self.longest_pass * 1e3, 1),
        }

    def warm_up(self, question: str = "How do I start?") -> None:
        """Answer one question and forget it in the counts: starts the worker and the first passes."""
        try:
            self.submit(question, 1).result()
        except Exception:  # the service still starts; each query then reports the error itself
            log.exception("warming up the query path failed")
        self.batches = self.answered = 0
        self.longest_pass = 0.0

    async def duplicates(self, question: str, k: int) -> list[Match]:
        """The k stored questions most similar to `question`, best first."""
        return await asyncio.wrap_future(self.submit(question, k))

    def submit(self, question: str, k: int) -> Future[list[Match]]:
        """Queue `question`; the future holds its k matches, or the error its batch met."""
        with self._starting:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="siamdup-queries", daemon=True)
                self._worker.start()
        query = _Query(question, k)
        self._waiting.put(query)
        return query.answer

    def _run(self) -> None:
        limit_threads(self.threads)
        closing = False
        while not closing:
            first = self._waiting.get()
            if first is None:
                return
            queries = [first]
            while len(queries) < self.batch and not self._waiting.empty():
                query = self._waiting.get()
                if query is None:  # answer this batch, then stop
                    closing = True
                    break
                queries.append(query)
            self._answer([q for q in queries if q.answer.set_running_or_notify_cancel()])

    def _answer(self, queries: list[_Query]) -> None:
        if not queries:
            return
        started = time.perf_counter()
        try:
            vectors = self.model.encode([q.question for q in queries])
            found = self.store.search(vectors, max(q.k for q in queries))
        except Exception as e:  # each request reports it (a 500); the worker goes on
            log.exception("answering %d queries failed", len(queries))
            for q in queries:
                q.answer.set_exception(e)
            return
        self.batches += 1
        self.answered += len(queries)
        self.longest_pass = max(self.longest_pass, time.perf_counter() - started)
        for q, matches in zip(queries, found, strict=True):
            q.answer.set_result(matches[: q.k])
