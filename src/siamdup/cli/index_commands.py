"""Index commands: `siamdup index build|add|remove|query|info` and `siamdup dedupe`."""

from __future__ import annotations

import json
import resource
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from siamdup.cli.common import (
    ModelOption,
    RuntimeOption,
    app,
    check_threshold,
    err,
    fail,
    load_index,
    load_model,
    out,
    progress_phases,
)
from siamdup.cli.locking import writes_to
from siamdup.cli.paths import check_output_file, check_output_folder, say_created, writing
from siamdup.cli.scale_dedupe import (
    check_against,
    compressed_dedupe,
    embedded,
    is_embeddings_folder,
    partitioned_dedupe,
)
from siamdup.cli.verify_options import VerifierOption, VerifyOption, load_verifier_or_fail
from siamdup.data.readers import DataError
from siamdup.data.texts import TEXT_FORMATS, read_texts
from siamdup.index import DuplicateIndex, IndexUpdateError, dedupe
from siamdup.index.duplicate_index import KINDS, encode
from siamdup.scale.compressed import COMPRESSIONS, NPROBE
from siamdup.scale.engines import ENGINES

index_app = typer.Typer(
    help="Store questions once, then find the duplicates of a new question among them (no retraining).",
    no_args_is_help=True,
)
app.add_typer(index_app, name="index")

IndexOption = Annotated[Path, typer.Option("--index", "-i", help="Index directory.")]
InputOption = Annotated[
    Path,
    typer.Option(
        "--input",
        help="Questions: CSV/TSV with a header, JSONL, or plain text with one question per line (.gz ok).",
    ),
]
TextColumnOption = Annotated[str, typer.Option(help="Column (or JSON key) holding the question.")]
IdColumnOption = Annotated[
    str | None, typer.Option(help="Column (or JSON key) holding its id; default: the row number.")
]
FormatOption = Annotated[
    str, typer.Option("--format", help=f"auto (by extension) or one of {', '.join(TEXT_FORMATS)}.")
]
EngineOption = Annotated[
    str, typer.Option(help='local (this process) or ray (a Ray cluster; needs pip install "siamdup\\[ray]").')
]
WorkersOption = Annotated[
    int, typer.Option(min=1, help="With --engine ray and no running cluster: CPUs of the local Ray cluster.")
]
KindOption = Annotated[
    str,
    typer.Option(
        help="exact (brute force), hnsw (approximate, for large stores) or auto (exact up to 50,000 questions)."
    ),
]


def _read(path: Path, text_column: str, id_column: str | None, format: str) -> tuple[list[str], list[str]]:
    try:
        ids, texts, report = read_texts(path, format=format, text_column=text_column, id_column=id_column)
    except DataError as e:
        raise fail(str(e)) from None
    err.print(report.summary())
    return ids, texts


def _add(index: DuplicateIndex, ids: list[str], texts: list[str]) -> None:
    """Encode and store, with a progress bar for each step."""
    with progress_phases() as phase:
        vectors = encode(index.model, texts, phase("encoding", len(texts)))
        index.add(ids, texts, vectors=vectors, progress=phase("indexing", len(texts)))


def _open(index: Path, model: Path | None) -> DuplicateIndex:
    return load_index(index, load_model(model) if model is not None else None)


@index_app.command("build")
@writes_to("out_dir", "--out", "index", create=True)
def build_command(
    input_path: InputOption,
    out_dir: Annotated[Path, typer.Option("--out", help="Index directory to write.")],
    model: ModelOption = None,
    runtime: RuntimeOption = "auto",
    text_column: TextColumnOption = "text",
    id_column: IdColumnOption = None,
    format: FormatOption = "auto",
    kind: KindOption = "auto",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing index at --out.")] = False,
) -> None:
    """Encode every question of a file and save them as a searchable index.

    Example: siamdup index build --input questions.csv --id-column qid --out index/
    """
    if kind not in KINDS:
        raise fail(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    created = check_output_folder(
        out_dir, "--out", holds="index", marker="manifest.json", inputs=[("--input", input_path)]
    )
    if (out_dir / "manifest.json").exists() and not overwrite:
        raise fail(f"{out_dir} already holds an index; use `siamdup index add` or pass --overwrite")
    siamese = load_model(model)
    ids, texts = _read(input_path, text_column, id_column, format)
    start = time.perf_counter()
    index = DuplicateIndex(siamese, kind=kind)
    _add(index, ids, texts)
    with writing(out_dir):
        index.save(out_dir)
    say_created(created)
    out.print(
        f"indexed {len(index):,} questions ({index.search_kind} search) in {time.perf_counter() - start:.1f}s "
        f"→ {out_dir}"
    )


@index_app.command("add")
@writes_to("index_dir", "--index", "index")
def add_command(
    index_dir: IndexOption,
    input_path: InputOption,
    model: ModelOption = None,
    runtime: RuntimeOption = "auto",
    text_column: TextColumnOption = "text",
    id_column: IdColumnOption = None,
    format: FormatOption = "auto",
) -> None:
    """Add new questions to an index; the model is not retrained (one-shot).

    Ids must be new: a file whose ids are already stored is refused and nothing changes.
    Example: siamdup index add --index index/ --input new.csv --id-column qid
    """
    index = _open(index_dir, model)
    ids, texts = _read(input_path, text_column, id_column, format)
    try:
        _add(index, ids, texts)
    except IndexUpdateError as e:
        raise fail(f"{e}; nothing was added") from None
    index.save()
    out.print(f"added {len(ids):,} questions; the index now holds {len(index):,}")


@index_app.command("remove")
@writes_to("index_dir", "--index", "index")
def remove_command(
    index_dir: IndexOption,
    ids: Annotated[list[str], typer.Argument(help="Ids of the questions to remove.", show_default=False)],
    model: ModelOption = None,
) -> None:
    """Remove questions by id. Example: siamdup index remove --index index/ 17 42"""
    index = _open(index_dir, model)
    try:
        index.remove(ids)
    except IndexUpdateError as e:
        raise fail(f"{e}; nothing was removed") from None
    index.save()
    out.print(f"removed {len(set(ids)):,} questions; the index now holds {len(index):,}")


@index_app.command("query")
def query_command(
    index_dir: IndexOption,
    questions: Annotated[list[str], typer.Argument(help="One or more questions.", show_default=False)],
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="How many stored questions to show.")] = 5,
    model: ModelOption = None,
    runtime: RuntimeOption = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines, one per question.")] = False,
    verify: VerifyOption = False,
    verifier: VerifierOption = None,
) -> None:
    """Find the stored questions most similar to each question, marked duplicate when similarity > τ.

    With --verify the verifier re-scores those k and decides; they are listed by its probability.
    Example: siamdup index query --index index/ "How do I learn Python?"
    """
    if not all(q.strip() for q in questions):
        raise fail("a question is empty")
    index = _open(index_dir, model)
    scorer = load_verifier_or_fail(verifier) if verify else None
    try:
        found = index.query_many(questions, k, verify=verify, verifier=scorer)
    except ValueError as e:  # more pairs than the verifier takes in one call
        raise fail(str(e)) from None
    decided_by = (
        f"verifier threshold {scorer.threshold:.3f}" if scorer else f"τ = {index.model.threshold:.3f}"
    )
    for question, matches in zip(questions, found, strict=True):
        if as_json:
            print(json.dumps({"question": question, "matches": [m.__dict__ for m in matches]}))
            continue
        table = Table(title=f"{question}  ({decided_by})", title_justify="left")
        columns = ("similarity", "verification", "duplicate", "id", "text") if verify else None
        for column in columns or ("similarity", "duplicate", "id", "text"):
            table.add_column(column, justify="right" if column in ("similarity", "verification") else "left")
        for m in matches:
            verified = [f"{m.verification:.4f}"] if verify else []  # type: ignore[attr-defined]
            duplicate = "[green]yes[/]" if m.duplicate else "no"
            table.add_row(f"{m.similarity:.4f}", *verified, duplicate, m.id, m.text)
        out.print(table)


@index_app.command("info")
def info_command(index_dir: IndexOption, model: ModelOption = None) -> None:
    """Show an index's size, search kind and the model it was built with."""
    print(json.dumps(_open(index_dir, model).info(), indent=2))


@app.command("dedupe")
def dedupe_command(
    input_path: InputOption,
    out_file: Annotated[
        Path,
        typer.Option("--out", help="CSV to write: group,size,id,text,similarity (to the group's centre)."),
    ],
    model: ModelOption = None,
    runtime: RuntimeOption = "auto",
    threshold: Annotated[
        float | None,
        typer.Option(help="Duplicates are neighbours above this similarity; default: the model's τ."),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=1000, help="Neighbours looked at per question.")] = 10,
    text_column: TextColumnOption = "text",
    id_column: IdColumnOption = None,
    format: FormatOption = "auto",
    kind: KindOption = "auto",
    verify: VerifyOption = False,
    verifier: VerifierOption = None,
    compress: Annotated[
        str,
        typer.Option(
            help="none (float vectors in memory), sq8 or pq (compressed codes in memory, vectors in shards "
            "on disk, candidates ranked again by exact cosine: for corpora past memory). Default for an "
            "embeddings folder as --input: pq.",
        ),
    ] = "none",
    nprobe: Annotated[
        int,
        typer.Option(
            min=1,
            help="With --compress or --engine ray: k-means cells each question searches (recall vs time).",
        ),
    ] = NPROBE,
    embeddings: Annotated[
        Path | None,
        typer.Option(
            help="With --compress: keep the shards of vectors here (a rerun resumes them); default: a temporary folder."
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option(
            help="Leakage check: list the questions of --input that duplicate a question of this other file "
            "(CSV: id,text,duplicate_id,duplicate_text,similarity) instead of grouping --input."
        ),
    ] = None,
    against_id_column: Annotated[
        str | None, typer.Option(help="With --against: its id column; default: --id-column.")
    ] = None,
    against_text_column: Annotated[
        str | None, typer.Option(help="With --against: its text column; default: --text-column.")
    ] = None,
    engine: EngineOption = "local",
    workers: WorkersOption = 2,
) -> None:
    """Find every group of duplicates in a file of questions.

    Each question looks at its k nearest neighbours; those above τ are its duplicates. The question with
    the most duplicates becomes a group's centre and takes them all, then the next, so every member of a
    group is a duplicate of its centre (the first row of the group). With --verify the verifier reads each
    such pair and only those it calls duplicates link.
    Example: siamdup dedupe --input questions.csv --id-column qid --out groups.csv
    """
    if kind not in KINDS:
        raise fail(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if compress not in ("none", *COMPRESSIONS):
        raise fail(f"--compress must be one of none, {', '.join(COMPRESSIONS)}, not {compress!r}")
    if engine not in ENGINES:
        raise fail(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    check_threshold(threshold)
    check_output_file(out_file, "--out", [("--input", input_path), ("--against", against)])
    in_memory = compress == "none" and engine == "local" and not is_embeddings_folder(input_path)
    if verify and (against is not None or not in_memory):
        raise fail(
            "--verify works with the in-memory dedupe only: not with --against, --compress, --engine ray "
            "or an embeddings folder as --input"
        )
    start = time.perf_counter()
    if against is not None:
        reading = (text_column, id_column, format)
        other = (against_text_column or text_column, against_id_column or id_column, format)
        leaks = check_against(input_path, against, model, reading, other, threshold, k, kind, out_file)
        out.print(
            leaks.summary(out_file)
            + f"  [{time.perf_counter() - start:.1f}s, peak memory {_peak_mb():,.0f} MB]"
        )
        return
    if in_memory:
        siamese = load_model(model)
        scorer = load_verifier_or_fail(verifier) if verify else None  # confirms each link before groups form
        ids, texts = _read(input_path, text_column, id_column, format)
        with progress_phases() as phase:
            result = dedupe(
                siamese, texts, threshold=threshold, k=k, kind=kind, phases=phase, verifier=scorer
            )
    else:
        with embedded(input_path, embeddings, model, (text_column, id_column, format), engine, workers) as (
            store,
            siamese,
            ids,
            texts,
        ):
            tau = siamese.threshold if threshold is None else threshold
            if engine == "ray":
                result = partitioned_dedupe(store, tau, k, nprobe, workers)
            else:
                result, _ = compressed_dedupe(store, tau, k, "pq" if compress == "none" else compress, nprobe)
    with writing(out_file):
        result.write_csv(out_file, ids, texts)
    largest = len(result.groups[0]) if result.groups else 0
    out.print(
        f"{len(result.groups):,} groups holding {result.n_grouped:,} of {result.n_questions:,} questions "
        f"(largest {largest:,}; {result.n_links:,} neighbour pairs above τ = {result.threshold:.3f}) → {out_file}  "
        f"[{time.perf_counter() - start:.1f}s, peak memory {_peak_mb():,.0f} MB]"
    )


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
