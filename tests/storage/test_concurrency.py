"""Readers any time: a process loads a model or an index over and over while another process saves it in
a loop. No read fails, every read is one whole save, the writer never dies, and only it moves files."""

import json
import threading
from pathlib import Path

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.storage import read_consistently
from tests.storage.conftest import QUESTIONS, python_process

SAVES = 60

MODEL_WRITER = """
    import sys
    from siamdup import Siamese
    model = Siamese.load(sys.argv[1])
    for i in range(1, int(sys.argv[2]) + 1):
        model.threshold = i / 1000  # each save is told apart by its threshold and its metrics
        model.save(sys.argv[1], extra_files={"metrics.json": {"save": i}})
        print(i, flush=True)
"""

INDEX_WRITER = """
    import sys
    from siamdup import Siamese
    from siamdup.index import DuplicateIndex
    index = DuplicateIndex.load(sys.argv[1], Siamese.load(sys.argv[3]))
    for i in range(1, int(sys.argv[2]) + 1):
        index.add([f"q{i}"], [f"is question {i} hard?"], journal=True)  # acknowledged once journalled
        if i % 3 == 0:
            index.save()  # folds the journal into a new save
        print(i, flush=True)
"""


class Acks:
    """The last number a writer process printed, read from its pipe in a thread."""

    def __init__(self, proc) -> None:
        self.last = 0
        self.first = threading.Event()
        self._thread = threading.Thread(target=self._follow, args=(proc,), daemon=True)
        self._thread.start()

    def _follow(self, proc) -> None:
        for line in proc.stdout:
            self.last = int(line)
            self.first.set()
        self.first.set()


def test_model_loads_while_another_process_saves_it(small_model_dir: Path, tmp_path: Path) -> None:
    target = Siamese.load(small_model_dir).save(tmp_path / "model")
    writer = python_process(MODEL_WRITER, str(target), str(SAVES))
    acks = Acks(writer)
    acks.first.wait(timeout=300)
    loads = 0
    while writer.poll() is None or loads < 3:
        quiet = writer.poll() is not None  # known before reading: nothing can land during this read
        model = Siamese.load(target)
        metrics = json.loads(read_consistently(target, lambda files: files.read_bytes("metrics.json")))
        assert model.threshold <= 1 and model.encode(["is chess hard?"]).shape == (1, 16)
        loads += 1
        if quiet:
            # Quiet now: the whole last save, config and metrics alike.
            assert model.threshold == metrics["save"] / 1000 == SAVES / 1000
    assert writer.wait() == 0, writer.stderr.read()
    assert loads >= 3


def test_index_loads_while_another_process_adds_and_saves(
    small_index_dir: Path, small_model_dir: Path
) -> None:
    model = Siamese.load(small_model_dir)
    writer = python_process(INDEX_WRITER, str(small_index_dir), str(SAVES), str(small_model_dir))
    acks = Acks(writer)
    acks.first.wait(timeout=300)
    loads = 0
    while writer.poll() is None or loads < 3:
        acknowledged = acks.last  # before the load starts: all of these must be in it
        index = DuplicateIndex.load(small_index_dir, model)
        assert index.journal_damaged == 0
        present = sum(f"q{i}" in index for i in range(1, SAVES + 1))
        assert present >= acknowledged  # nothing acknowledged is missing
        assert all(f"q{i}" in index for i in range(1, present + 1))  # and no gap: one whole version
        assert len(index) == len(QUESTIONS) + present
        loads += 1
    assert writer.wait() == 0, writer.stderr.read()
    final = DuplicateIndex.load(small_index_dir, model)
    assert len(final) == len(QUESTIONS) + SAVES
