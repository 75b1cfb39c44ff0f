"""Atomic writes of a whole directory of files (a model, a checkpoint).

A save first writes every file into `DIR/.staging/`, then marks the staging complete, then moves each
file into `DIR` with an atomic rename. If the process dies before the mark, `DIR` still holds the old,
consistent files and the staging is discarded; if it dies after the mark, the next `recover(DIR)` (run by
every load and every save) finishes the move. Either way no reader ever sees a mix of two versions.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING = ".staging"
COMPLETE = "COMPLETE"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(directory: str | Path) -> None:
    """Finish or discard an interrupted save in `directory` (no-op when there is none)."""
    staging = Path(directory) / STAGING
    if not staging.is_dir():
        return
    if (staging / COMPLETE).exists():
        for name in json.loads((staging / COMPLETE).read_text()):
            if (staging / name).exists():
                os.replace(staging / name, Path(directory) / name)
        _fsync_dir(Path(directory))
    shutil.rmtree(staging)


@contextmanager
def atomic_directory(directory: str | Path) -> Iterator[Path]:
    """Yield a staging folder; the files written there replace those of `directory` together on exit.

    On an exception inside the block nothing in `directory` changes.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    recover(directory)
    staging = directory / STAGING
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    names = sorted(p.name for p in staging.iterdir() if p.is_file())
    for name in names:
        with open(staging / name, "rb") as f:
            os.fsync(f.fileno())
    marker = staging / (COMPLETE + ".tmp")
    marker.write_text(json.dumps(names))
    os.replace(marker, staging / COMPLETE)  # the commit point
    _fsync_dir(staging)
    recover(directory)
