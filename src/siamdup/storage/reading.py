"""Reading a directory while a writer may be saving it: no lock, no change, one consistent version.

A reader takes each file of a committed save from the staging while it is still there, and from the
directory once it was moved (`StoredFiles.open`), and checks every file against the checksums of the
version it started from. A save that commits during the read shows up as a changed directory: then the
read starts again (`read_consistently`); a mismatch in a directory that did not change is corruption.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from siamdup.storage.atomic import COMPLETE, STAGING
from siamdup.storage.checksums import (
    CHECKSUMS,
    ChecksumMismatchError,
    CorruptFileError,
    HashingReader,
    parse_checksums,
)
from siamdup.storage.lock import LOCK_FILE

RETRY_SECONDS = 60.0  # how long a reader retries while saves keep landing (slow on a busy machine)
T = TypeVar("T")


class StaleReadError(Exception):
    """What was read mixes two saves; the read starts again."""


class StoredFiles:
    """The files of one version of `directory`, as a reader sees them (see the module docstring)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._staged = self._committed_staging()
        self.checksums: dict[str, str] | None = None  # None: saved before checksums existed
        self.unverified: set[str] = set()  # files read that could not be checked against this version
        try:
            with self._open_raw(CHECKSUMS) as (f, path):
                self.checksums = parse_checksums(f.read().decode("utf-8", "replace"), path)
        except FileNotFoundError:
            pass

    def _committed_staging(self) -> frozenset[str]:
        try:
            return frozenset(json.loads((self.directory / STAGING / COMPLETE).read_text()))
        except (OSError, ValueError, TypeError):
            return frozenset()

    @contextmanager
    def _open_raw(self, name: str):
        for path in self._candidates(name):
            try:
                f = open(path, "rb")  # noqa: SIM115 - closed by the `with f` below; a missing one is skipped
            except FileNotFoundError:
                continue
            with f:
                yield f, self.directory / name
            return
        raise FileNotFoundError(self.directory / name)

    def _candidates(self, name: str) -> list[Path]:
        staged = [self.directory / STAGING / name] if name in self._staged else []
        return [*staged, self.directory / name]

    def exists(self, name: str) -> bool:
        return any(path.is_file() for path in self._candidates(name))

    def size(self, name: str) -> int:
        """The byte size of the file `open(name)` would read."""
        for path in self._candidates(name):
            try:
                return path.stat().st_size
            except FileNotFoundError:
                continue
        raise FileNotFoundError(self.directory / name)

    @contextmanager
    def open(self, name: str, *, editable: bool = False, growing: bool = False) -> Iterator[HashingReader]:
        """The file for reading; its checksum is verified when the block ends (also when it raised, so a
        corrupt file is reported as such rather than by the parser that choked on it).

        An `editable` file (a config a user may change by hand, checked field by field instead) that
        differs from its save is accepted; it only marks this read as unverified. A `growing` file (a
        journal) has no checksum: the caller checks that it belongs to the version read.
        """
        expected = None if self.checksums is None or growing else self.checksums.get(name)
        if expected is None and not growing:
            self.unverified.add(name)
        with self._open_raw(name) as (f, path):
            reader = HashingReader(f, path, expected)
            try:
                yield reader
            except Exception:
                self._verify(reader, editable)
                raise
            self._verify(reader, editable)

    def _verify(self, reader: HashingReader, editable: bool) -> None:
        try:
            reader.verify()
        except ChecksumMismatchError:
            if not editable:
                raise
            self.unverified.add(reader.path.name)

    def read_bytes(self, name: str, *, editable: bool = False) -> bytes:
        with self.open(name, editable=editable) as f:
            return f.read()


def _signature(directory: Path, growing: frozenset[str]) -> frozenset:
    """What changes when a save lands: each file's identity (and size and time, except growing files)."""
    entries = []
    for folder in (directory, directory / STAGING):
        try:
            with os.scandir(folder) as it:
                for e in it:
                    if e.name == LOCK_FILE or not e.is_file(follow_symlinks=False):
                        continue
                    st = e.stat(follow_symlinks=False)
                    detail = () if e.name in growing else (st.st_size, st.st_mtime_ns)
                    entries.append((folder.name, e.name, st.st_ino, *detail))
        except FileNotFoundError:
            continue
    return frozenset(entries)


def _another_save(directory: Path, files: StoredFiles | None) -> bool:
    """Whether a save other than the one `files` started from landed: the file signature alone can miss
    one where inode numbers are reused and timestamps are coarse (tmpfs)."""
    if files is None or files.checksums is None:
        return False
    try:
        return StoredFiles(directory).checksums != files.checksums
    except (CorruptFileError, OSError, ValueError):
        return True


def read_consistently(
    directory: Path, read: Callable[[StoredFiles], T], *, growing: frozenset[str] = frozenset()
) -> T:
    """`read(files)` on one consistent version of `directory`, started again while saves land on it.

    An error from `read` stands when the directory did not change during it (the files are what they
    are). `growing` names files appended to between saves (a journal), which do not count as a change.
    """
    deadline = time.monotonic() + RETRY_SECONDS
    pause = 0.002
    while True:
        before = _signature(directory, growing)
        files = None
        try:
            files = StoredFiles(directory)
            result = read(files)
        except (StaleReadError, CorruptFileError, OSError, ValueError):
            changed = _signature(directory, growing) != before or _another_save(directory, files)
            if not changed or time.monotonic() > deadline:
                raise
        else:
            # Verified files are one version whatever happened meanwhile; unverified ones only if nothing did.
            if not files.unverified or _signature(directory, growing) == before:
                return result
            if time.monotonic() > deadline:
                raise StaleReadError(f"{directory} kept changing while it was read; try again")
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
