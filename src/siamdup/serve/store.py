"""The served index: searched and extended by concurrent requests, switched to HNSW and saved off the
request path.

Questions added through the service are journalled before the answer is sent. A thread folds the
journal into the saved index (a full atomic save, which empties it) after `fold_every_adds` journalled
questions, `fold_every_seconds` after the first one, after a switch to HNSW, and on shutdown, so a
restart neither replays a long journal nor builds the graph again. Queries wait only for the brief
moments an add changes FAISS; adds also wait while a fold writes the index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext

import numpy as np

from siamdup.index import DuplicateIndex, Match
from siamdup.index.background import HNSWSwitch
from siamdup.serve.settings import ServiceSettings

log = logging.getLogger(__name__)


class ServedIndex:
    """A `DuplicateIndex` shared by the request threads; see the module docstring."""

    def __init__(self, index: DuplicateIndex, settings: ServiceSettings) -> None:
        self.index = index
        self.settings = settings
        self.state_lock = threading.Lock()  # FAISS and the entries: each search, each change
        self.write_lock = threading.Lock()  # one writer at a time: adds, folds, the HNSW swap
        index.switch_in_background = True
        self.switch = HNSWSwitch(
            index, self.state_lock, self.write_lock, on_done=self._wake_folder, threads=settings.build_threads
        )
        self.journalled = 0  # questions added since the last fold
        self.folds = 0
        self._first_unfolded: float | None = None
        self._saved_search = index.search_kind
        self._wake = threading.Condition()
        self._closing = False
        self._folder: threading.Thread | None = None

    # -- requests -------------------------------------------------------------------------------

    def search(self, vectors: np.ndarray, k: int) -> list[list[Match]]:
        with self.state_lock:
            scores, rows = self.index.search(vectors, k)
            return [self.index.matches(s, r) for s, r in zip(scores, rows, strict=True)]

    def add(self, ids: Sequence[str], texts: Sequence[str], vectors: np.ndarray) -> int:
        """Journal and store new questions; the number stored after. Raises `IndexUpdateError`."""
        with self.write_lock:
            # The journal's fsync happens before the state lock, so searches go on while it lands; the
            # writers' lock keeps any other change or save from coming between the journal and the add.
            ids, texts, vectors = self.index.checked_additions(ids, texts, vectors)
            self.index.journal_additions(ids, texts)
            with self.state_lock:
                self.index.add(ids, texts, vectors=vectors)
                total = len(self.index)
            self.journalled += len(ids)
            self._first_unfolded = self._first_unfolded or time.monotonic()
        self.switch.start()
        if self.journalled >= self.settings.fold_every_adds:
            self._wake_folder()
        return total

    def describe(self) -> dict:
        return {
            "questions": len(self.index),
            "search": self.index.search_kind,
            "switching_to_hnsw": self.switch.running,
            "journalled": self.journalled,
        }

    # -- folding --------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the folding thread, and a due switch to HNSW (an index saved mid-switch)."""
        self._folder = threading.Thread(target=self._fold_loop, name="siamdup-fold", daemon=True)
        self._folder.start()
        self.switch.start()

    def close(self) -> None:
        """Stop the threads, abandoning a running HNSW build, and fold what is left."""
        with self._wake:
            self._closing = True
            self._wake.notify_all()
        if self._folder is not None:
            self._folder.join()
        self.switch.stop()
        try:
            self.fold()
        except Exception:  # the journal still holds every add: nothing acknowledged is lost
            log.exception("folding the journal on shutdown failed; it will be replayed at the next start")

    def fold(self) -> bool:
        """Save the index now (emptying its journal) if it changed since the last save; True if saved."""
        with self.write_lock:
            if self.switch.running or not self._fold_due(force=True):
                return False
            compacting = self.index.rows != len(self.index)  # save() then renumbers rows: no search meanwhile
            with self.state_lock if compacting else nullcontext():
                self.index.save()
            self.journalled = 0
            self._first_unfolded = None
            self._saved_search = self.index.search_kind
        with self._wake:
            self.folds += 1
            self._wake.notify_all()
        return True

    def wait_for_folds(self, count: int, timeout: float) -> bool:
        """Block until `count` folds happened in all; False on timeout."""
        with self._wake:
            return self._wake.wait_for(lambda: self.folds >= count, timeout)

    def _fold_due(self, force: bool = False) -> bool:
        if self.journalled == 0:
            return self.index.search_kind != self._saved_search
        if force or self.journalled >= self.settings.fold_every_adds:
            return True
        waited = time.monotonic() - (self._first_unfolded or time.monotonic())
        return waited >= self.settings.fold_every_seconds

    def _wake_folder(self) -> None:
        with self._wake:
            self._wake.notify_all()

    def _fold_loop(self) -> None:
        while True:
            with self._wake:
                if self._closing:
                    return
                self._wake.wait(timeout=min(self.settings.fold_every_seconds / 4, 60))
                if self._closing:
                    return
            if self._fold_due() and not self.switch.running:
                try:
                    self.fold()
                except Exception:  # the journal still holds every add; the next fold retries
                    log.exception("folding the journal into the saved index failed")
