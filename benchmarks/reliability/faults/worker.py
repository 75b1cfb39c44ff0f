"""Child processes of the save scenario, killed from outside: `save-loop` and `read-loop`.

    python -m benchmarks.reliability.faults.worker save-loop INDEX_DIR MODEL_DIR RUN
    python -m benchmarks.reliability.faults.worker read-loop INDEX_DIR MODEL_DIR

The writer prints a line after each save returns (what it acknowledges); the reader prints a line per
load, "ok ..." or "error ...". Both stop by themselves after a bounded number of rounds.
"""

from __future__ import annotations

import sys
from pathlib import Path

from benchmarks.reliability.faults.materials import question, shipped_model, small_model
from siamdup import Siamese
from siamdup.index import DuplicateIndex

MAX_ROUNDS = 2000


def save_loop(index_dir: Path, model_dir: Path, run: str) -> None:
    if (index_dir / "manifest.json").exists():
        index = DuplicateIndex.load(index_dir, shipped_model())
    else:
        index = DuplicateIndex(shipped_model())
    model = small_model()
    for n in range(MAX_ROUNDS):
        qid = f"{run}-{n}"
        index.add([qid], [question(qid)])
        print(f"saving index {qid}", flush=True)
        index.save(index_dir)
        print(f"saved index {qid}", flush=True)
        model.threshold = round(0.5 + n / 10_000, 6)
        print(f"saving model {model.threshold!r}", flush=True)
        model.save(model_dir)
        print(f"saved model {model.threshold!r}", flush=True)


def read_loop(index_dir: Path, model_dir: Path) -> None:
    for _ in range(MAX_ROUNDS):
        for what, load in (
            ("index", lambda: len(DuplicateIndex.load(index_dir, shipped_model()))),
            ("model", lambda: Siamese.load(model_dir).threshold),
        ):
            try:
                print(f"ok {what} {load()}", flush=True)
            except Exception as e:  # every failure is the finding: report it and keep reading
                print(f"error {what} {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "save-loop":
        save_loop(Path(args[0]), Path(args[1]), args[2])
    else:
        read_loop(Path(args[0]), Path(args[1]))
