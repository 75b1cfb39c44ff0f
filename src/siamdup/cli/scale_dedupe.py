"""`siamdup dedupe` past one process's memory: compressed candidate search over an embeddings folder."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from siamdup.cli.common import err, fail, load_model, progress_phases
from siamdup.cli.paths import writing
from siamdup.data.readers import DataError
from siamdup.index import DuplicateIndex
from siamdup.index.dedupe import DedupeResult
from siamdup.index.duplicate_index import encode
from siamdup.model.siamese import ModelLoadError, Siamese
from siamdup.scale import DEFAULT_SHARD_SIZE, EmbeddingsError, EmbeddingStore, embed_corpus, read_corpus
from siamdup.scale.against import Leaks, find_against
from siamdup.scale.compressed import CompressedSettings
from siamdup.scale.dedupe import dedupe_store
from siamdup.scale.engines import shard_encoder
from siamdup.scale.ray_engine import MissingExtraError
from siamdup.scale.store import MANIFEST


def is_embeddings_folder(path: Path) -> bool:
    return path.is_dir() and (path / MANIFEST).is_file()


def open_store(path: Path, model: Path | None) -> tuple[EmbeddingStore, Siamese]:
    """An embeddings folder and the model that made it (the one given, when it is that model)."""
    try:
        store = EmbeddingStore.open(path)
    except EmbeddingsError as e:
        raise fail(str(e)) from None
    recorded = store.manifest.model
    try:
        siamese = Siamese.load(model if model is not None else recorded.path)
    except ModelLoadError as e:
        raise fail(
            f"{path} was embedded with the model at {recorded.path or 'the shipped default'}: {e}"
        ) from None
    if siamese.fingerprint() != recorded.fingerprint:
        raise fail(
            f"{path} was embedded with another model (fingerprint {recorded.fingerprint}, recorded path "
            f"{recorded.path or 'the shipped model'}), not {model}; pass that model or embed again"
        )
    return store, siamese


@contextmanager
def embedded(
    input_path: Path,
    embeddings: Path | None,
    model: Path | None,
    reading: tuple[str, str | None, str],
    engine: str,
    workers: int,
) -> Iterator[tuple[EmbeddingStore, Siamese, list[str], list[str]]]:
    """The input's embeddings folder (made or resumed in `embeddings`, else in a temporary folder), the
    model, and the questions' ids and texts."""
    if is_embeddings_folder(input_path):
        store, siamese = open_store(input_path, model)
        try:
            ids, texts = store.entries()
        except EmbeddingsError as e:
            raise fail(str(e)) from None
        yield store, siamese, ids, texts
        return
    siamese = load_model(model)
    text_column, id_column, format = reading
    try:
        corpus = read_corpus([input_path], format=format, text_column=text_column, id_column=id_column)
    except (DataError, EmbeddingsError) as e:
        raise fail(str(e)) from None
    err.print(corpus.reports[0].summary())
    with _folder(embeddings) as folder:
        try:
            with progress_phases() as phase, writing(folder):
                advance = phase("encoding", len(corpus.texts))
                with shard_encoder(engine, siamese, workers, advance) as encoder:
                    embed_corpus(
                        siamese, corpus, folder, shard_size=DEFAULT_SHARD_SIZE, encoder=encoder, done=advance
                    )
            store = EmbeddingStore.open(folder, verify=False)
        except (EmbeddingsError, MissingExtraError) as e:
            raise fail(str(e)) from None
        yield store, siamese, corpus.ids, corpus.texts


@contextmanager
def _folder(embeddings: Path | None) -> Iterator[Path]:
    if embeddings is not None:
        yield embeddings
        return
    with tempfile.TemporaryDirectory(prefix="siamdup-embeddings-") as folder:
        yield Path(folder)


def compressed_dedupe(
    store: EmbeddingStore, tau: float, k: int, compression: str, nprobe: int
) -> tuple[DedupeResult, float]:
    """Groups found with compressed candidate search, and the index's bytes per question."""
    settings = CompressedSettings(compression=compression, nprobe=nprobe)
    with progress_phases() as phase:
        found = dedupe_store(store, tau, k=k, settings=settings, phases=phase)
    return found.result, found.bytes_per_question


def _read_one(path: Path, reading: tuple[str, str | None, str]) -> tuple[list[str], list[str]]:
    text_column, id_column, format = reading
    try:
        corpus = read_corpus([path], format=format, text_column=text_column, id_column=id_column)
    except (DataError, EmbeddingsError) as e:
        raise fail(str(e)) from None
    err.print(corpus.reports[0].summary())
    return corpus.ids, corpus.texts


def check_against(
    input_path: Path,
    other_path: Path,
    model: Path | None,
    reading: tuple[str, str | None, str],
    other_reading: tuple[str, str | None, str],
    threshold: float | None,
    k: int,
    kind: str,
    out_file: Path,
) -> Leaks:
    """The questions of `input_path` that duplicate one of `other_path`, written to `out_file`."""
    siamese = load_model(model)
    ids, texts = _read_one(input_path, reading)
    other_ids, other_texts = _read_one(other_path, other_reading)
    tau = siamese.threshold if threshold is None else threshold
    with progress_phases() as phase:
        other = DuplicateIndex(siamese, kind=kind)
        vectors = encode(siamese, other_texts, phase("encoding", len(other_texts)))
        other.add([str(i) for i in range(len(other_texts))], other_texts, vectors=vectors)
        vectors = encode(siamese, texts, phase("encoding", len(texts)))
        leaks = find_against(other.search, vectors, len(other_texts), tau, k, phase("searching", len(texts)))
    with writing(out_file):
        leaks.write_csv(out_file, ids, texts, other_ids, other_texts)
    return leaks


def partitioned_dedupe(store: EmbeddingStore, tau: float, k: int, nprobe: int, workers: int) -> DedupeResult:
    """Groups found partition by partition on Ray workers (exits naming the extra when Ray is missing)."""
    from siamdup.scale.partition import default_cells
    from siamdup.scale.partitioned import partitioned_dedupe as by_partitions

    try:
        from siamdup.scale.ray_engine import ray_runner, ray_session

        with ray_session(workers), progress_phases() as phase:
            return by_partitions(
                store,
                tau,
                k=k,
                nprobe=nprobe,
                runner=ray_runner,
                progress=phase("partitions", default_cells(len(store))),
            )
    except MissingExtraError as e:
        raise fail(str(e)) from None
