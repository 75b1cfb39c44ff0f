"""What every command shares: the typer app, the consoles, error exits, model loading, progress bars."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

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

from siamdup.data.files import excerpt
from siamdup.index import DuplicateIndex, IndexLoadError
from siamdup.model.siamese import ModelLoadError, Siamese

app = typer.Typer(
    help="Siamese networks for duplicate-question detection: train a model on labelled question pairs, "
    "evaluate it, ask it whether two questions ask the same thing, index questions to find the duplicates "
    "of a new one, de-duplicate a corpus, and serve it all over HTTP.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

ModelOption = Annotated[
    Path | None,
    typer.Option("--model", "-m", help="Model directory; default: the model shipped with siamdup."),
]


def _use_runtime(runtime: str) -> str:
    """Make `runtime` the choice of every model this command loads (an index's recorded model included)."""
    from siamdup.model.onnx_runtime import RUNTIME_ENV, RUNTIMES

    if runtime not in RUNTIMES:
        raise typer.BadParameter(f"use one of {', '.join(RUNTIMES)}, not {runtime!r}")
    os.environ[RUNTIME_ENV] = runtime
    return runtime


RuntimeOption = Annotated[
    str,
    typer.Option(
        "--runtime",
        envvar="SIAMDUP_RUNTIME",
        callback=_use_runtime,
        help="What encodes: auto (ONNX Runtime when the model directory holds an encoder.onnx from "
        "siamdup export and onnxruntime is installed, else PyTorch), torch, or onnx.",
    ),
]

MAX_MESSAGE_CHARS = 1000


def fail(message: str) -> typer.Exit:
    """Print an error and return the exit to raise (exit code 2)."""
    # Messages quote paths, ids and file content; none of it may flood the terminal.
    message = excerpt(message, MAX_MESSAGE_CHARS)
    err.print(f"[bold red]error:[/] {escape(message)}")  # a path or hint may hold [brackets]
    return typer.Exit(code=2)


def check_threshold(threshold: float | None, option: str = "--threshold") -> None:
    """Refuse a threshold no cosine similarity can be compared with (NaN, infinite, outside [-1, 1])."""
    if threshold is not None and not -1.0 <= threshold <= 1.0:
        raise fail(f"{option} must be a similarity between -1 and 1, not {threshold}")


def load_model(model: Path | None, threads: int | None = None) -> Siamese:
    """Load a model (the shipped one for None); `threads`: ONNX Runtime's, when the model runs on it."""
    try:
        return Siamese.load(model, threads=threads)
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
