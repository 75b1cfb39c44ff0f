"""Scale-out commands: `siamdup embed` (a corpus's vectors in resumable shards on disk)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from siamdup.cli.common import ModelOption, app, err, fail, load_model, out, progress_phases
from siamdup.cli.index_commands import (
    EngineOption,
    FormatOption,
    IdColumnOption,
    TextColumnOption,
    WorkersOption,
)
from siamdup.cli.locking import writes_to
from siamdup.cli.paths import check_output_folder, writing
from siamdup.data.readers import DataError
from siamdup.scale import DEFAULT_SHARD_SIZE, Corpus, EmbeddingsError, embed_corpus, read_corpus
from siamdup.scale.engines import ENGINES, shard_encoder
from siamdup.scale.ray_engine import MissingExtraError


def read_inputs(paths: list[Path], text_column: str, id_column: str | None, format: str) -> Corpus:
    """Read the input files, printing what was skipped; a clear exit on a bad file."""
    try:
        corpus = read_corpus(paths, format=format, text_column=text_column, id_column=id_column)
    except (DataError, EmbeddingsError) as e:
        raise fail(str(e)) from None
    for report in corpus.reports:
        err.print(report.summary())
    return corpus


@app.command("embed")
@writes_to("out_dir", "--out", "embeddings folder", create=True)
def embed_command(
    input_paths: Annotated[
        list[Path],
        typer.Option(
            "--input",
            help="Questions: CSV/TSV with a header, JSONL, or plain text, one per line (.gz ok). "
            "Repeat for several files.",
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Embeddings folder to write (or to finish).")],
    model: ModelOption = None,
    shard_size: Annotated[
        int,
        typer.Option(min=1, help="Questions per shard: a killed run loses at most the shard in progress."),
    ] = DEFAULT_SHARD_SIZE,
    text_column: TextColumnOption = "text",
    id_column: IdColumnOption = None,
    format: FormatOption = "auto",
    engine: EngineOption = "local",
    workers: WorkersOption = 2,
    overwrite: Annotated[
        bool, typer.Option(help="Replace embeddings of other inputs or another model at --out.")
    ] = False,
) -> None:
    """Encode every question of the input files into vectors saved in shards, with their ids and texts.

    Each shard is saved atomically with a checksum, so a rerun of the same command skips the shards
    already finished (and verified) and encodes the rest. The folder feeds `siamdup dedupe --input`.
    Example: siamdup embed --input questions.csv --id-column qid --out embeddings/
    """
    if engine not in ENGINES:
        raise fail(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    check_output_folder(
        out_dir,
        "--out",
        holds="embeddings folder",
        marker="manifest.json",
        inputs=[("--input", p) for p in input_paths],
    )
    siamese = load_model(model)
    corpus = read_inputs(input_paths, text_column, id_column, format)
    start = time.perf_counter()
    with progress_phases() as phase, writing(out_dir):
        advance = phase("encoding", len(corpus.texts))
        try:
            with shard_encoder(engine, siamese, workers, advance) as encoder:
                report = embed_corpus(
                    siamese,
                    corpus,
                    out_dir,
                    shard_size=shard_size,
                    encoder=encoder,
                    overwrite=overwrite,
                    done=advance,
                )
        except (EmbeddingsError, MissingExtraError) as e:
            raise fail(str(e)) from None
    redone = f", {report.redone} redone (missing or corrupt)" if report.redone else ""
    out.print(
        f"{len(corpus.texts):,} questions in {report.shards} shards: {report.kept} kept from an earlier run"
        f"{redone}, {report.encoded} encoded in {time.perf_counter() - start:.1f}s → {out_dir}"
    )
