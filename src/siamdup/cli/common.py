"""What every command shares: the typer app, the consoles, error exits, model loading, progress bars."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from siamdup.index import DuplicateIndex, IndexLoadError
from siamdup.model.siamese import ModelLoadError, Siamese
from siamdup.storage import LOCK_FILE, DirectoryLockedError, writer_lock

app = typer.Typer(
    help="Siamese networks for duplicate-question detection: train a model on labelled question pairs, "
    "evaluate it, ask it whether two questions ask the same thing, index questions to find the duplicates "
    "of a new one, de-duplicate a corpus, and serve it all over HTTP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
Command = TypeVar("Command", bound=Callable)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory; default: the model shipped with siamdup."),
]


def fail(message: str) -> typer.Exit:
    """Print an error and return the exit to raise (exit code 2)."""
    err.print(f"[bold red]error:[/] {escape(message)}")  # a path or hint may hold [brackets]
    return typer.Exit(code=2)


def load_model(model: Path | None) -> Siamese:
    try:
        return Siamese.load(model)
    except ModelLoadError as e:
        raise fail(str(e)) from None


def load_index(path: Path, model: Siamese | None) -> DuplicateIndex:
    """Load an index (with its recorded model when `model` is None); say what its journal replayed."""
    try:
        index = DuplicateIndex.load(path, model)
    except IndexLoadError as e:
        raise fail(str(e)) from None
    if index.replayed or index.journal_damaged:
        damaged = (
            f"; {index.journal_damaged} damaged journal line(s) skipped" if index.journal_damaged else ""
        )
        err.print(f"replayed {index.replayed:,} journalled change(s) since the last save{damaged}")
        for note in index.journal_notes:
            err.print(f"  {escape(note)}")
    return index


@contextmanager
def writing(directory: Path, *, create: bool = False) -> Iterator[None]:
    """Hold a directory's writer lock for a command's whole run, or exit naming the process that has it.

    `create`: make the directory (not its parents) first; it is removed again if the command fails
    before writing anything into it.
    """
    created = create and not directory.exists()
    if created:
        try:
            directory.mkdir()
        except OSError as e:
            raise fail(f"cannot create {directory}: {e.strerror}") from None
    elif not directory.is_dir():
        raise fail(f"{directory} is not a directory")
    try:
        with writer_lock(directory):
            yield
    except DirectoryLockedError as e:
        raise fail(str(e)) from None
    finally:
        if created and [p.name for p in directory.iterdir()] in ([], [LOCK_FILE]):
            shutil.rmtree(directory)


def writes_to(parameter: str, *, create: bool = False) -> Callable[[Command], Command]:
    """Make a command hold the writer lock of the directory passed as `parameter` for its whole run
    (nothing to lock when it is None); see `writing`."""

    def decorate(command: Command) -> Command:
        @functools.wraps(command)
        def locked(**params):
            if params.get(parameter) is None:
                return command(**params)
            with writing(params[parameter], create=create):
                return command(**params)

        return locked  # type: ignore[return-value]

    return decorate


@contextmanager
def progress_phases() -> Iterator:
    """A rich progress display; yields `phase(description, total) -> advance(n)` for long steps."""
    columns = (
        TextColumn("{task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=False) as progress:

        def phase(description: str, total: int):
            task = progress.add_task(description, total=total)
            return lambda n: progress.advance(task, n)

        yield phase
