"""`siamdup signatures enrol|verify|writers`: the one-shot job on a signature model (no retraining)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from siamdup.cli.common import err, fail, out
from siamdup.cli.locking import writes_to
from siamdup.cli.signature_commands import signatures_app
from siamdup.signatures.model import SignatureModelLoadError
from siamdup.signatures.references import ReferenceStore
from siamdup.signatures.stored import check_writer
from siamdup.signatures.verifier import (
    InvalidWriterError,
    SignatureVerifier,
    StoreLoadError,
    TrajectoryFormatError,
    UnknownWriterError,
    read_signatures,
)
from siamdup.storage import DirectoryLockedError

SHOWN_SKIPS = 5  # bad files named one by one; the rest are counted

StoreOption = Annotated[
    Path, typer.Option("--store", "-s", help="Enrolment store directory (created by the first enrol).")
]
WriterOption = Annotated[
    str, typer.Option("--writer", "-w", help="The writer's id: letters, digits and _ . @ + -.")
]
SignatureModelOption = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        help="Signature model directory; default: the one the store records, else the one shipped with siamdup.",
    ),
]


def open_verifier(store: Path, model: Path | None) -> SignatureVerifier:
    """Open an enrolment store with its model, or exit with the reason; say when vectors were re-derived."""
    try:
        verifier = SignatureVerifier.open(store, model)
    except (StoreLoadError, SignatureModelLoadError) as e:
        raise fail(str(e)) from None
    if verifier.reembedded:
        err.print(
            f"the store's vectors were made by another model: derived {verifier.reembedded:,} again from the "
            "stored signatures with this one (saved at the next enrol)"
        )
    return verifier


def _writer(writer: str) -> str:
    try:
        return check_writer(writer)
    except InvalidWriterError as e:
        raise fail(f"--writer: {e}") from None


@signatures_app.command("enrol")
@writes_to("store", "--store", "signature store", create=True)
def enrol_command(
    store: StoreOption,
    writer: WriterOption,
    files: Annotated[
        list[Path],
        typer.Argument(help="Signature files: SVC2004 .TXT, .json or .csv of points.", show_default=False),
    ],
    model: SignatureModelOption = None,
) -> None:
    """Store reference signatures for a writer, new or known; nothing is retrained.

    Files that cannot be read are skipped, counted and named; if none can be read nothing changes.
    Example: siamdup signatures enrol --store signatures/ --writer alice alice1.TXT alice2.TXT
    """
    writer = _writer(writer)
    verifier = open_verifier(store, model)
    batch = read_signatures(files)
    for _, reason in batch.skipped[:SHOWN_SKIPS]:  # each reason names its file
        err.print(f"skipped {escape(reason)}")
    if len(batch.skipped) > SHOWN_SKIPS:
        err.print(f"... and {len(batch.skipped) - SHOWN_SKIPS} more bad file(s)")
    if not batch.trajectories:
        raise fail(f"none of the {len(files)} file(s) could be read; nothing was enrolled")
    try:
        count = verifier.enrol(writer, batch.trajectories)
    except ValueError as e:
        raise fail(f"{e}; nothing was enrolled") from None
    except (OSError, DirectoryLockedError) as e:
        raise fail(f"cannot save {store}: {e}; nothing was enrolled") from None
    skipped = f" ({len(batch.skipped)} bad file(s) skipped)" if batch.skipped else ""
    out.print(
        f"enrolled {len(batch.trajectories)} signature(s) for {escape(writer)}: {count} reference(s) now"
        f"{skipped} → {escape(str(store))}"
    )


@signatures_app.command("verify")
def verify_command(
    store: StoreOption,
    writer: WriterOption,
    file: Annotated[
        Path, typer.Argument(help="The signature to check: SVC2004 .TXT, .json or .csv.", show_default=False)
    ],
    model: SignatureModelOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Score a signature against the writer's references: genuine when the score is above the model's τ.

    Example: siamdup signatures verify --store signatures/ --writer alice new.TXT
    """
    writer = _writer(writer)
    if not ReferenceStore.is_store(store):
        raise fail(f"--store {store}: no signature store there; enrol some signatures first")
    verifier = open_verifier(store, model)
    try:
        result = verifier.verify(writer, file)
    except UnknownWriterError as e:
        known = verifier.writers()
        hint = f" (enrolled: {', '.join(known[:10])}{', ...' if len(known) > 10 else ''})" if known else ""
        raise fail(f"{e}{hint}") from None
    except TrajectoryFormatError as e:
        raise fail(str(e)) from None
    if as_json:
        print(json.dumps({**result.__dict__, "file": str(file)}))
        return
    decision = "[green]genuine[/]" if result.genuine else "[red]forgery[/]"
    rule = verifier.model.aggregation + (", fused with DTW" if verifier.model.fusion is not None else "")
    out.print(
        f"{escape(str(file))}: score {result.score:.4f} against {len(result.reference_scores)} reference(s) "
        f"of {escape(writer)} ({rule}) → {decision} at τ = {result.threshold:.4f}"
    )
    table = Table(title="similarity to each reference", title_justify="left")
    table.add_column("reference")
    table.add_column("similarity", justify="right")
    for reference, score in zip(verifier.references(writer), result.reference_scores, strict=True):
        table.add_row(escape(Path(reference.source).name), f"{score:.4f}")
    out.print(table)


@signatures_app.command("writers")
def writers_command(store: StoreOption, model: SignatureModelOption = None) -> None:
    """List the enrolled writers and how many references each has."""
    if not ReferenceStore.is_store(store):
        raise fail(f"--store {store}: no signature store there; enrol some signatures first")
    verifier = open_verifier(store, model)
    info = verifier.describe()
    print(
        json.dumps(
            {**info, "by_writer": {w: len(verifier.references(w)) for w in verifier.writers()}}, indent=2
        )
    )
