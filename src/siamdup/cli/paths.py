"""Checks of the paths a command will write, made before any work so that a mistake costs nothing.

The rules: an output never replaces one of the command's inputs; an output *file* goes into a folder
that already exists (a typo in a path should not create folders); an output *folder* (a model, an
index, plots) is created with any missing parents, and the command says which folder it created.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from siamdup.cli.common import err, fail
from siamdup.storage import LOCK_FILE

Inputs = Iterable[tuple[str, Path | None]]  # (option, path) of each file the command reads


def check_output_file(path: Path, option: str, inputs: Inputs = ()) -> None:
    """Refuse an output file that is a folder, lies in a missing or read-only folder, or is an input."""
    if path.is_dir():
        raise fail(f"{option} {path} is a folder; give a file name, e.g. {path / 'out.csv'}")
    if path.exists() and not path.is_file():
        # The output is written beside and moved into place, which would replace a device or a pipe.
        raise fail(f"{option} {path} is not a regular file; give a file name")
    folder = path.parent
    if not folder.is_dir():
        existing = nearest_existing(folder)
        if existing.is_dir():
            raise fail(
                f"{option} {path}: the folder {folder} does not exist; create it first (mkdir -p {folder})"
            )
        raise fail(f"{option} {path}: {existing} is a file, not a folder")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise fail(f"{option} {path}: cannot write there (permission denied)")
    _refuse_inputs(path, option, inputs)


def check_output_folder(
    path: Path, option: str, *, holds: str, marker: str | None, inputs: Inputs = ()
) -> Path | None:
    """Refuse an output folder that is a file, lies under a file or a read-only folder, or holds other files.

    A folder that already holds a `holds` (its `marker` file present) is the caller's to refuse or
    replace; with `marker=None` the folder may hold anything (the outputs have names of their own).
    Returns the outermost missing parent the save will create (to name it afterwards), or None.
    """
    if path.exists() and not path.is_dir():
        raise fail(f"{option} {path} is a file, not a folder; give a folder for the {holds}")
    existing = nearest_existing(path)
    if not existing.is_dir():
        raise fail(f"{option} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):
        raise fail(f"{option} {path}: cannot write to {existing} (permission denied)")
    if existing == path and marker is not None and not (path / marker).exists() and _has_entries(path):
        raise fail(f"{option} {path} holds other files but no {holds}; give a new or empty folder")
    for name, source in inputs:
        if source is not None and _inside(source, path):
            raise fail(f"{name} {source} lies inside {option} {path}; write the {holds} to another folder")
    outermost = outermost_missing(path)
    return outermost if outermost != path else None


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Turn an error while writing `path` (disk full, a filesystem that refuses files) into a clear exit."""
    try:
        yield
    except OSError as e:
        raise fail(f"cannot write {path}: {e.strerror or e}") from None


def say_created(folder: Path | None) -> None:
    """Name the missing parent folder a save created, so that no folder appears unannounced."""
    if folder is not None and folder.is_dir():
        err.print(f"created the missing folder {folder}")


def _refuse_inputs(path: Path, option: str, inputs: Inputs) -> None:
    for name, source in inputs:
        if source is not None and path.exists() and source.exists() and os.path.samefile(path, source):
            raise fail(
                f"{option} {path} is the same file as {name} {source}; write the output to another file"
            )


def nearest_existing(path: Path) -> Path:
    """`path` or its nearest ancestor that exists (as anything), spelled as the user spelled `path`."""
    return next((p for p in (path, *path.parents) if p.exists()), Path(path.anchor or "."))


def outermost_missing(path: Path) -> Path:
    missing = [p for p in (path, *path.parents) if not p.exists()]
    return missing[-1] if missing else path


def _inside(source: Path, folder: Path) -> bool:
    try:
        return source.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _has_entries(folder: Path) -> bool:
    try:
        return any(p.name != LOCK_FILE for p in folder.iterdir())
    except OSError:
        return True
