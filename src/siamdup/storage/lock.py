"""One writer per directory: an OS lock on `DIR/.lock`, with the holder's details written inside.

The lock is `fcntl.flock` on the open lock file, so the kernel releases it when its process ends in any
way, kill -9 included: a lock never outlives its holder. The holder's pid, host, command and start time
are written into the file only so that a refused writer can be told who holds it; a file still holding
details when the lock is free was left by a writer that ended without releasing it (killed, or stopped by
a signal), which the next writer reports and ignores.

Locks are per process and re-entrant: a process that holds a directory's lock (e.g. `siamdup serve`
holding its index for its whole life) can save it again from any of its threads without asking twice.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

LOCK_FILE = ".lock"
COMMAND_CHARS = 200  # of the holder's command line, enough to recognise it

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or last held) a directory's writer lock."""

    pid: int | None
    host: str
    command: str
    since: str  # ISO 8601, UTC

    def describe(self) -> str:
        running = "" if self.host != socket.gethostname() or _pid_alive(self.pid) else " (no longer running)"
        return f"pid {self.pid}{running} on {self.host}, `{self.command}`, since {self.since}"


class DirectoryLockedError(RuntimeError):
    """Another process is writing to the directory; `holder` says which (None when it cannot be read)."""

    def __init__(self, directory: Path, holder: LockHolder | None) -> None:
        self.directory = directory
        self.holder = holder
        who = holder.describe() if holder else "another process (its details could not be read)"
        super().__init__(
            f"{directory} is being written by {who}; one writer at a time: wait for it to finish or stop "
            "it, then try again (reading it is fine meanwhile)"
        )


def _pid_alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_holder(fd: int) -> LockHolder | None:
    raw = os.pread(fd, 4096, 0)
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
        return LockHolder(int(data["pid"]), str(data["host"]), str(data["command"]), str(data["since"]))
    except (ValueError, KeyError, TypeError):
        return None


def _me() -> LockHolder:
    return LockHolder(
        pid=os.getpid(),
        host=socket.gethostname(),
        command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:COMMAND_CHARS] if sys.argv else "python",
        since=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


class _Held:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.count = 0


_held: dict[str, _Held] = {}
_registry_lock = threading.Lock()


def _forget_in_child() -> None:
    # A forked child shares the parent's lock; it must not write as if it held it on its own.
    global _registry_lock
    _registry_lock = threading.Lock()  # another thread may have held it at the fork
    for held in _held.values():
        os.close(held.fd)
    _held.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _acquire(directory: Path) -> _Held:
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no such directory to lock")
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = _read_holder(fd)
        os.close(fd)
        raise DirectoryLockedError(directory, holder) from None
    previous = _read_holder(fd)
    if previous is not None:
        log.warning(
            "%s: the last writer (%s) ended without releasing its lock (killed or stopped by a signal); "
            "taking it over",
            directory,
            previous.describe(),
        )
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(asdict(_me())).encode(), 0)
    return _Held(fd)


def _release(held: _Held) -> None:
    os.ftruncate(held.fd, 0)  # an empty file: released cleanly, nobody died holding it
    fcntl.flock(held.fd, fcntl.LOCK_UN)
    os.close(held.fd)


@contextmanager
def writer_lock(directory: str | Path) -> Iterator[Path]:
    """Hold `directory`'s writer lock for the block (the directory must exist).

    Raises `DirectoryLockedError`, naming the holder, when another process holds it. Re-entrant within a
    process. Readers never need it.
    """
    directory = Path(directory)
    key = os.path.realpath(directory)
    with _registry_lock:
        held = _held.get(key) or _acquire(directory)
        _held[key] = held
        held.count += 1
    try:
        yield directory
    finally:
        with _registry_lock:
            held.count -= 1
            if held.count == 0:
                del _held[key]
                _release(held)


def holds_lock(directory: str | Path) -> bool:
    """Whether this process holds `directory`'s writer lock."""
    return os.path.realpath(directory) in _held
