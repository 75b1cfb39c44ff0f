"""Commands that write a model or index directory hold its writer lock for their whole run.

The lock lives in the directory (`DIR/.lock`), so a command that creates its output folder creates it
before locking; when the command fails before writing anything, the folders it made are removed again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

from siamdup.cli.common import fail
from siamdup.cli.paths import nearest_existing, outermost_missing, say_created
from siamdup.storage import LOCK_FILE, DirectoryLockedError, writer_lock

Command = TypeVar("Command", bound=Callable)


@contextmanager
def holding_lock(directory: Path, option: str, holds: str, *, create: bool = False) -> Iterator[None]:
    """Hold `directory`'s writer lock for the block, or exit naming the process that holds it.

    `create`: make the directory (and missing parents) first, naming the parents it made.
    """
    created = outermost_missing(directory) if create and not directory.exists() else None
    if created is not None:
        existing = nearest_existing(directory)
        if not existing.is_dir():
            raise fail(f"{option} {directory}: {existing} is a file, not a folder")
        try:
            directory.mkdir(parents=True)
        except OSError as e:
            raise fail(f"{option}: cannot write {directory}: {e.strerror or e}") from None
    elif not directory.is_dir():
        what = "is a file, not a folder" if directory.exists() else "does not exist"
        raise fail(f"{option} {directory} is not a siamdup {holds}: it {what}")
    try:
        with ExitStack() as stack:
            try:
                stack.enter_context(writer_lock(directory))
            except DirectoryLockedError as e:
                raise fail(str(e)) from None
            except OSError as e:
                raise fail(
                    f"{option} {directory}: cannot take its writer lock ({e.strerror or e}); "
                    "writing there needs a writable folder"
                ) from None
            yield
    except BaseException:
        if created is not None:
            _remove_unused(directory, created)
        raise
    if created is not None and created != directory:
        say_created(created)


def writes_to(
    parameter: str,
    option: str,
    holds: str,
    *,
    create: bool = False,
    when: Callable[[], bool] = lambda: True,
) -> Callable[[Command], Command]:
    """Make a command hold the writer lock of the `holds` directory ("index", "model") passed as
    `parameter` (flag `option`) for its whole run; nothing is locked when it is None or `when()` is false
    (a process of a distributed run that does not write)."""

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def locked(**params):
            if params.get(parameter) is None or not when():
                return command(**params)
            with holding_lock(params[parameter], option, holds, create=create):
                return command(**params)

        return locked  # type: ignore[return-value]

    return decorate


def _remove_unused(directory: Path, outermost: Path) -> None:
    """Remove `directory` if it holds only the lock file, then its empty parents up to `outermost`."""
    lock = directory / LOCK_FILE
    if [p.name for p in directory.iterdir()] not in ([], [LOCK_FILE]):
        return
    lock.unlink(missing_ok=True)
    for folder in (directory, *directory.parents):
        folder.rmdir()
        if folder == outermost:
            return
