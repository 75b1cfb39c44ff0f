"""Atomic saves of a whole directory of files (a model, a checkpoint, an index).

A save holds the directory's writer lock, writes every file into `DIR/.staging/`, records their SHA-256
in `checksums.sha256`, marks the staging complete (the commit point: `COMPLETE` lists the files in the
order they move), then moves each file into `DIR` with an atomic rename. If the writer dies before the
mark, `DIR` still holds the old files and the next writer discards the staging; if it dies after, readers
take the committed files from the staging (see `reading`) and the next writer finishes the move. Only a
writer holding the lock ever moves or deletes anything.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

from siamdup.storage.checksums import (
    CHECKSUMS,
    CorruptFileError,
    file_digest,
    format_checksums,
    parse_checksums,
)
from siamdup.storage.lock import writer_lock

STAGING = ".staging"
COMPLETE = "COMPLETE"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def recover(directory: str | Path) -> None:
    """Finish or discard an interrupted save in `directory` (no-op when there is none).

    A writer's step: it takes the directory's writer lock (raising `DirectoryLockedError` when another
    process holds it).
    """
    directory = Path(directory)
    if not (directory / STAGING).is_dir():
        return
    with writer_lock(directory):
        staging = directory / STAGING
        if not staging.is_dir():
            return
        if (staging / COMPLETE).exists():
            for name in json.loads((staging / COMPLETE).read_text()):
                if (staging / name).exists():
                    os.replace(staging / name, directory / name)
            _fsync_dir(directory)
        shutil.rmtree(staging)


def _kept_checksums(directory: Path, staged: Collection[str], unchecked: Collection[str]) -> dict[str, str]:
    """Digests of the files this save leaves in place, from the last save's record."""
    try:
        recorded = parse_checksums((directory / CHECKSUMS).read_text(), directory / CHECKSUMS)
    except (OSError, UnicodeDecodeError, CorruptFileError):
        return {}
    return {
        name: digest
        for name, digest in recorded.items()
        if name not in staged and name not in unchecked and (directory / name).is_file()
    }


def _commit(directory: Path, staging: Path, unchecked: Collection[str]) -> None:
    names = sorted(p.name for p in staging.iterdir() if p.is_file())
    digests = _kept_checksums(directory, names, unchecked)
    for name in names:
        with open(staging / name, "rb") as f:
            os.fsync(f.fileno())
        if name not in unchecked:
            digests[name] = file_digest(staging / name)
    (staging / CHECKSUMS).write_text(format_checksums(digests))
    with open(staging / CHECKSUMS, "rb") as f:
        os.fsync(f.fileno())
    # Checked files first, then their record, then the unchecked ones (e.g. a journal that pairs with them).
    order = [n for n in names if n not in unchecked and n != CHECKSUMS] + [CHECKSUMS]
    order += [n for n in names if n in unchecked]
    marker = staging / (COMPLETE + ".tmp")
    marker.write_text(json.dumps(order))
    os.replace(marker, staging / COMPLETE)  # the commit point
    _fsync_dir(staging)


@contextmanager
def atomic_directory(directory: str | Path, *, unchecked: Collection[str] = ()) -> Iterator[Path]:
    """Yield a staging folder; the files written there replace those of `directory` together on exit.

    Holds the directory's writer lock throughout (`DirectoryLockedError` when another process has it). On
    an exception inside the block nothing in `directory` changes. Files named in `unchecked` (ones that
    grow after the save, like a journal) get no checksum.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with writer_lock(directory):
        recover(directory)
        staging = directory / STAGING
        staging.mkdir()
        try:
            yield staging
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _commit(directory, staging, unchecked)
        recover(directory)
