"""Encode a corpus into an embeddings directory shard by shard, resuming where a previous run stopped.

A rerun with the same model, inputs, reading options and shard size keeps every finished shard whose files
still match their checksums and encodes the rest; anything else is refused unless the caller overwrites.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siamdup.data.readers import ReadReport
from siamdup.data.texts import read_texts
from siamdup.model.siamese import Siamese, default_model_path
from siamdup.scale.manifest import FORMAT, FORMAT_VERSION, InputFile, Manifest, ModelReference, Reading, Shard
from siamdup.scale.store import (
    MANIFEST,
    EmbeddingsError,
    read_manifest,
    recorded_digests,
    save_shard,
    shard_is_intact,
)
from siamdup.storage import CHECKSUMS, recover, writer_lock
from siamdup.storage.checksums import file_digest

DEFAULT_SHARD_SIZE = 100_000
ENCODE_CHUNK = 8192  # questions encoded between two progress updates

Progress = Callable[[int], None]
# Encodes the given (shard number, texts) and yields (shard number, vectors) as each shard is done.
ShardEncoder = Callable[[list[tuple[int, list[str]]]], Iterator[tuple[int, np.ndarray]]]


@dataclass
class Corpus:
    """Questions read from one or more files, with what identifies those files."""

    ids: list[str]
    texts: list[str]
    inputs: list[InputFile]
    reading: Reading
    reports: list[ReadReport]


@dataclass
class EmbedReport:
    shards: int  # in the whole corpus
    kept: int  # finished by an earlier run and intact
    redone: int  # listed as finished but missing or corrupt, so encoded again
    encoded: int  # by this run (redone included)


def read_corpus(
    paths: Sequence[Path], *, format: str = "auto", text_column: str = "text", id_column: str | None = None
) -> Corpus:
    """Read every file's questions in order. With several files and no id column, an id is `file:row`.

    Raises `DataError` (from the readers) for an unreadable file and `EmbeddingsError` for an id found in
    two files.
    """
    ids: list[str] = []
    texts: list[str] = []
    inputs, reports = [], []
    owner: dict[str, str] = {}
    for path in paths:
        file_ids, file_texts, report = read_texts(
            path, format=format, text_column=text_column, id_column=id_column
        )
        if len(paths) > 1 and id_column is None:
            file_ids = [f"{path.name}:{i}" for i in file_ids]
        for qid in file_ids:
            if owner.setdefault(qid, str(path)) != str(path):
                raise EmbeddingsError(
                    f"the id {qid!r} is in both {owner[qid]} and {path}; ids must be unique"
                )
        ids += file_ids
        texts += file_texts
        inputs.append(InputFile(path=str(path.resolve()), sha256=file_digest(path), questions=len(file_ids)))
        reports.append(report)
    return Corpus(
        ids, texts, inputs, Reading(format=format, text_column=text_column, id_column=id_column), reports
    )


def local_encoder(model: Siamese, progress: Progress | None = None) -> ShardEncoder:
    """Encode shards one after the other in this process."""

    def encode(jobs: list[tuple[int, list[str]]]) -> Iterator[tuple[int, np.ndarray]]:
        for number, texts in jobs:
            out = np.empty((len(texts), model.dim), dtype=np.float32)
            for start in range(0, len(texts), ENCODE_CHUNK):
                chunk = texts[start : start + ENCODE_CHUNK]
                out[start : start + len(chunk)] = model.encode(chunk)
                if progress:
                    progress(len(chunk))
            yield number, out

    return encode


def model_reference(model: Siamese) -> ModelReference:
    shipped = model.path is None or model.path.resolve() == default_model_path().resolve()
    path = None if shipped else str(model.path.resolve())  # type: ignore[union-attr]
    return ModelReference(fingerprint=model.fingerprint(), path=path)


def embed_corpus(
    model: Siamese,
    corpus: Corpus,
    out: Path,
    *,
    shard_size: int = DEFAULT_SHARD_SIZE,
    encoder: ShardEncoder | None = None,
    overwrite: bool = False,
    done: Progress | None = None,
) -> EmbedReport:
    """Write `corpus`'s vectors, ids and texts to `out` in shards of `shard_size`, resuming a previous run.

    `encoder` encodes the missing shards (default: in this process); `done` is told how many questions
    were already finished. Holds `out`'s writer lock throughout.
    """
    out.mkdir(parents=True, exist_ok=True)
    with writer_lock(out):
        recover(out)
        manifest = Manifest(
            format=FORMAT,
            format_version=FORMAT_VERSION,
            dim=model.dim,
            model=model_reference(model),
            inputs=corpus.inputs,
            reading=corpus.reading,
            questions=len(corpus.texts),
            shard_size=shard_size,
            shards=[],
        )
        if overwrite:
            _clear(out)
        finished = _resumable(out, manifest)
        kept = [s for s in finished if s.number in _intact(out, finished)]
        manifest.shards = list(kept)
        todo = [n for n in range(manifest.n_shards) if n not in {s.number for s in kept}]
        if done:
            done(sum(s.rows for s in kept))
        jobs = [(n, corpus.texts[n * shard_size : (n + 1) * shard_size]) for n in todo]
        for number, vectors in (encoder or local_encoder(model))(jobs):
            start = number * shard_size
            rows = slice(start, start + len(vectors))
            manifest.shards = sorted(
                [*manifest.shards, Shard(number=number, start=start, rows=len(vectors))],
                key=lambda s: s.number,
            )
            save_shard(out, manifest, number, vectors, corpus.ids[rows], corpus.texts[rows])
        return EmbedReport(manifest.n_shards, len(kept), len(finished) - len(kept), len(todo))


def _resumable(out: Path, wanted: Manifest) -> list[Shard]:
    """The shards an earlier run finished, when it embedded the same thing; refuses anything else."""
    if not (out / MANIFEST).exists():
        if any(p.name.startswith("shard-") for p in out.iterdir()):
            raise EmbeddingsError(f"{out} holds shard files but no {MANIFEST}; give a new or empty folder")
        return []
    found = read_manifest(out)
    differences = [
        what
        for what, theirs, ours in (
            ("model", found.model.fingerprint, wanted.model.fingerprint),
            ("input files or their contents", found.inputs, wanted.inputs),
            ("reading options", found.reading, wanted.reading),
            ("shard size", found.shard_size, wanted.shard_size),
        )
        if theirs != ours
    ]
    if differences:
        raise EmbeddingsError(
            f"{out} holds embeddings made with another {', '.join(differences)}; pass --overwrite to replace "
            "them, or give another --out"
        )
    return list(found.shards)


def _intact(out: Path, shards: list[Shard]) -> set[int]:
    digests = recorded_digests(out)
    return {s.number for s in shards if shard_is_intact(out, s.number, digests)}


def _clear(out: Path) -> None:
    """Remove a previous embeddings directory's files (the caller holds the writer lock)."""
    for path in out.iterdir():
        if path.name in (MANIFEST, CHECKSUMS) or (path.name.startswith("shard-") and path.is_file()):
            os.remove(path)


__all__ = ["DEFAULT_SHARD_SIZE", "Corpus", "EmbedReport", "embed_corpus", "local_encoder", "read_corpus"]
