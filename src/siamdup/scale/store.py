"""An embeddings directory: a corpus's vectors, ids and texts in shards, written by `siamdup embed`.

The directory holds ``manifest.json`` (the model, the inputs and how they were read, the shard size, the
finished shards), ``shard-NNNNN.npy`` (float32 unit vectors) and ``shard-NNNNN.jsonl`` (one
``{"id", "text"}`` per row) for each finished shard, and ``checksums.sha256``. Each shard is saved with
the manifest that lists it in one atomic save (`siamdup.storage.atomic_directory`), so a killed run leaves
every shard it finished, listed and checksummed, and nothing of the shard it was writing.

Vectors are read memory-mapped, one shard at a time, so a corpus larger than memory can be searched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from siamdup.scale.manifest import Manifest, check_manifest, shard_files
from siamdup.storage import (
    CHECKSUMS,
    STAGING,
    CorruptFileError,
    DirectoryLockedError,
    atomic_directory,
    recover,
)
from siamdup.storage.checksums import file_digest, parse_checksums

MANIFEST = "manifest.json"


class EmbeddingsError(ValueError):
    """An embeddings directory that is missing, unfinished, corrupt, or of another format."""


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmbeddingsError(f"{directory}: not a siamdup embeddings folder (no {MANIFEST})") from None
    except (OSError, ValueError) as e:
        raise EmbeddingsError(f"{path}: cannot be read as JSON: {e}") from None
    try:
        return check_manifest(data, path)
    except CorruptFileError as e:
        raise EmbeddingsError(str(e)) from None


def recorded_digests(directory: Path) -> dict[str, str]:
    try:
        return parse_checksums((directory / CHECKSUMS).read_text(), directory / CHECKSUMS)
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, CorruptFileError) as e:
        raise EmbeddingsError(f"{directory / CHECKSUMS}: {e}") from None


def shard_is_intact(directory: Path, number: int, digests: dict[str, str]) -> bool:
    """Both files of a shard exist and hash to what their save recorded."""
    for name in shard_files(number):
        path = directory / name
        if name not in digests or not path.is_file() or file_digest(path) != digests[name]:
            return False
    return True


def save_shard(
    directory: Path, manifest: Manifest, number: int, vectors: np.ndarray, ids: list[str], texts: list[str]
) -> None:
    """Save one shard's files together with `manifest` (which lists it) in one atomic save."""
    vectors_name, entries_name = shard_files(number)
    with atomic_directory(directory) as staging:
        np.save(staging / vectors_name, np.ascontiguousarray(vectors, dtype=np.float32))
        with open(staging / entries_name, "w", encoding="utf-8") as f:
            for qid, text in zip(ids, texts, strict=True):
                f.write(json.dumps({"id": qid, "text": text}, ensure_ascii=False) + "\n")
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")


class EmbeddingStore:
    """A finished embeddings directory, for reading (see the module docstring)."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = directory
        self.manifest = manifest

    @classmethod
    def open(cls, directory: str | Path, *, verify: bool = True) -> EmbeddingStore:
        """Open a finished embeddings directory; `verify` checks every shard against its checksum.

        Raises `EmbeddingsError` naming the file when the directory is unfinished, a shard is missing,
        corrupt or of the wrong shape.
        """
        directory = Path(directory)
        if (directory / STAGING).is_dir():
            try:
                recover(directory)  # a save was cut short: finish or discard it before reading
            except DirectoryLockedError as e:
                raise EmbeddingsError(f"{e}: it is being written; wait for that to finish") from None
        manifest = read_manifest(directory)
        if not manifest.complete:
            raise EmbeddingsError(
                f"{directory}: {len(manifest.shards)} of {manifest.n_shards} shards are finished; "
                "run `siamdup embed` again with the same inputs to finish it"
            )
        digests = recorded_digests(directory) if verify else {}
        for shard in manifest.shards:
            if verify and not shard_is_intact(directory, shard.number, digests):
                raise EmbeddingsError(
                    f"{directory}: shard {shard.number} ({', '.join(shard_files(shard.number))}) is missing or "
                    "does not match its checksum; run `siamdup embed` again to redo it"
                )
        store = cls(directory, manifest)
        for shard in manifest.shards:
            shape = store.shard_vectors(shard.number).shape
            if shape != (shard.rows, manifest.dim):
                raise EmbeddingsError(
                    f"{directory / shard_files(shard.number)[0]}: shape {shape}, the manifest says "
                    f"({shard.rows}, {manifest.dim})"
                )
        return store

    def __len__(self) -> int:
        return self.manifest.questions

    @property
    def dim(self) -> int:
        return self.manifest.dim

    def shard_vectors(self, number: int) -> np.ndarray:
        """One shard's vectors, memory-mapped (read-only)."""
        return np.load(self.directory / shard_files(number)[0], mmap_mode="r")

    def chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, vectors) of each shard in order, each read into memory in turn."""
        for shard in self.manifest.shards:
            yield shard.start, np.array(self.shard_vectors(shard.number))

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of `rows` (any order, repeats allowed), read shard by shard from disk."""
        rows = np.asarray(rows, dtype=np.int64).ravel()
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        owner = rows // self.manifest.shard_size
        for number in np.unique(owner).tolist():
            picked = np.flatnonzero(owner == number)
            mapped = self.shard_vectors(number)
            out[picked] = mapped[rows[picked] - number * self.manifest.shard_size]
            del mapped  # unmapped at once, so resident memory stays one shard at most
        return out

    def sample(self, size: int, seed: int = 0) -> np.ndarray:
        """Vectors of `size` rows drawn at random without replacement (all rows when fewer)."""
        if size >= len(self):
            return np.concatenate([v for _, v in self.chunks()])
        rows = np.sort(np.random.default_rng(seed).choice(len(self), size, replace=False))
        return self.gather(rows)

    def entries(self) -> tuple[list[str], list[str]]:
        """(ids, texts) of every row, in order."""
        ids: list[str] = []
        texts: list[str] = []
        for shard in self.manifest.shards:
            path = self.directory / shard_files(shard.number)[1]
            with open(path, encoding="utf-8") as f:
                for line_number, line in enumerate(f, start=1):
                    try:
                        entry = json.loads(line)
                        ids.append(str(entry["id"]))
                        texts.append(str(entry["text"]))
                    except (ValueError, KeyError, TypeError):
                        raise EmbeddingsError(f"{path}: line {line_number} is not an id and a text") from None
            if len(ids) != shard.start + shard.rows:
                raise EmbeddingsError(
                    f"{path}: {len(ids) - shard.start} rows, the manifest says {shard.rows}"
                )
        return ids, texts
