"""`ReferenceStore`: the enrolled signatures of each writer, kept with their vectors and the model that
made them.

Enrolling a writer, or adding references to one, only stores trajectories and their vectors: nothing is
retrained. The trajectories themselves are kept, so a store outlives a change of model: the vectors are
derived again from them (see `SignatureVerifier`).

A store directory holds, written together atomically by a writer that holds its lock:

- ``manifest.json``: format and version, the model's fingerprint, path and vector width, and per writer
  id its file and each reference's source, columns and point count (checked field by field on load);
- ``writer-<hash>.safetensors``: one per writer, each reference's points (``points.<i>``, float64) and
  the vectors of all of them (``vectors``, float32, one unit vector a row);
- ``checksums.sha256``: the SHA-256 of each file, verified as it is read.

A save rewrites only the files of the writers that changed, and the manifest. Loading changes nothing on
disk and sees one whole save even while another process saves the store.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save as save_tensors

from siamdup.signatures.stored import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    InvalidWriterError,
    Manifest,
    check_manifest,
    check_writer,
    decode_writer,
    encode_writer,
    writer_file,
)
from siamdup.storage import (
    LOCK_FILE,
    ChecksumMismatchError,
    CorruptFileError,
    StaleReadError,
    StoredFiles,
    atomic_directory,
    read_consistently,
    writer_lock,
)
from siamdup.trajectory.points import Trajectory

__all__ = [
    "MAX_REFERENCES",
    "InvalidWriterError",
    "ModelIdentity",
    "ReferenceStore",
    "StoreLoadError",
    "UnknownWriterError",
]

MAX_REFERENCES = 100  # per writer: a handful is the norm; more only slows every verification


class StoreLoadError(ValueError):
    """A store directory that is missing, not a store, or damaged; the message names the file."""


class UnknownWriterError(KeyError):
    """No references are enrolled for this writer id."""

    def __init__(self, writer: str) -> None:
        super().__init__(writer)
        self.writer = writer

    def __str__(self) -> str:
        return f"no signatures are enrolled for writer {self.writer!r}; enrol some first"


@dataclass(frozen=True)
class ModelIdentity:
    """Which model made a store's vectors: its fingerprint, where it was loaded from, its vector width."""

    fingerprint: str
    path: str | None
    dim: int


class ReferenceStore:
    """Per writer id, the reference trajectories and their vectors; see the module docstring."""

    def __init__(self, model: ModelIdentity) -> None:
        self.model = model
        self.path: Path | None = None
        self._references: dict[str, list[Trajectory]] = {}
        self._vectors: dict[str, np.ndarray] = {}
        self._changed: set[str] = set()

    def writers(self) -> list[str]:
        """The enrolled writer ids, sorted."""
        return sorted(self._references)

    def __contains__(self, writer: object) -> bool:
        return writer in self._references

    def __len__(self) -> int:
        return len(self._references)

    def references(self, writer: str) -> list[Trajectory]:
        """A writer's reference trajectories, in the order enrolled; `UnknownWriterError` if none."""
        if writer not in self._references:
            raise UnknownWriterError(writer)
        return list(self._references[writer])

    def vectors(self, writer: str) -> np.ndarray:
        """A writer's reference vectors (n, dim), rows in the order of `references`."""
        if writer not in self._vectors:
            raise UnknownWriterError(writer)
        return self._vectors[writer]

    def add(self, writer: str, trajectories: Sequence[Trajectory], vectors: np.ndarray) -> int:
        """Enrol references for `writer` (new or known); returns how many it has now. Saved by `save`."""
        check_writer(writer)
        if not trajectories:
            raise ValueError(f"no signatures to enrol for writer {writer!r}")
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.shape != (len(trajectories), self.model.dim):
            raise ValueError(f"expected vectors ({len(trajectories)}, {self.model.dim}), got {vectors.shape}")
        known = len(self._references.get(writer, ()))
        if known + len(trajectories) > MAX_REFERENCES:
            raise ValueError(
                f"writer {writer!r} has {known} references; {len(trajectories)} more would pass the limit of "
                f"{MAX_REFERENCES}"
            )
        self._references[writer] = [*self._references.get(writer, ()), *trajectories]
        previous = self._vectors.get(writer, np.empty((0, self.model.dim), np.float32))
        self._vectors[writer] = np.concatenate([previous, vectors])
        self._changed.add(writer)
        return len(self._references[writer])

    def truncate(self, writer: str, keep: int) -> None:
        """Keep only `writer`'s first `keep` references (0: forget the writer). Saved by `save`."""
        if writer not in self._references:
            raise UnknownWriterError(writer)
        if keep <= 0:
            del self._references[writer], self._vectors[writer]
        else:
            self._references[writer] = self._references[writer][:keep]
            self._vectors[writer] = self._vectors[writer][:keep]
        self._changed.add(writer)

    def replace_model(self, model: ModelIdentity, vectors: dict[str, np.ndarray]) -> None:
        """Take the vectors of another model for every writer (derived again from the trajectories)."""
        if set(vectors) != set(self._references):
            raise ValueError("replace_model needs new vectors for every enrolled writer")
        for writer, rows in vectors.items():
            if rows.shape != (len(self._references[writer]), model.dim):
                raise ValueError(f"writer {writer!r}: vectors of shape {rows.shape} do not fit")
        self.model = model
        self._vectors = {w: np.asarray(v, np.float32) for w, v in vectors.items()}
        self._changed = set(self._references)

    # -- persistence ------------------------------------------------------------------------------

    def save(self, path: str | Path | None = None) -> Path:
        """Write the changed writers' files and the manifest atomically (to `path`, or where it was loaded
        from). Takes the directory's writer lock (`DirectoryLockedError` when another process holds it)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("save() needs a path for a store that was never saved")
        rewrite = set(self._references) if target != self.path else self._changed
        target.mkdir(parents=True, exist_ok=True)
        with writer_lock(target):
            with atomic_directory(target) as staging:
                sizes = {}
                for writer in sorted(self._references):
                    name = writer_file(writer)
                    if writer in rewrite:
                        tensors = encode_writer(self._references[writer], self._vectors[writer])
                        (staging / name).write_bytes(save_tensors(tensors))
                    sizes[name] = (staging / name if writer in rewrite else target / name).stat().st_size
                (staging / MANIFEST).write_text(json.dumps(self._manifest(sizes), indent=2) + "\n")
            # Committed, and still under the lock: a forgotten writer's file is no longer named anywhere.
            for orphan in set(target.glob("writer-*.safetensors")) - {target / n for n in sizes}:
                orphan.unlink(missing_ok=True)
        self.path = target
        self._changed = set()
        return target

    def _manifest(self, sizes: dict[str, int]) -> dict:
        writers = {
            writer: {
                "file": writer_file(writer),
                "references": [
                    {"source": t.source, "columns": list(t.columns), "points": len(t)} for t in trajectories
                ],
            }
            for writer, trajectories in sorted(self._references.items())
        }
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model": {"fingerprint": self.model.fingerprint, "path": self.model.path, "dim": self.model.dim},
            "writers": writers,
            "file_sizes": sizes,
        }

    @staticmethod
    def is_store(path: str | Path) -> bool:
        """Whether `path` holds a saved store (a manifest)."""
        return (Path(path) / MANIFEST).is_file()

    @staticmethod
    def is_free(path: str | Path) -> bool:
        """Whether a new store may be created at `path`: missing, or a folder holding nothing else."""
        path = Path(path)
        if not path.exists():
            return True
        return path.is_dir() and all(p.name in (LOCK_FILE, ".staging") for p in path.iterdir())

    @classmethod
    def load(cls, path: str | Path) -> ReferenceStore:
        """Load a store directory; `StoreLoadError` names the file (and field) when it is missing, corrupt
        (its checksum differs), truncated or malformed."""
        directory = Path(path)
        if not cls.is_store(directory):
            raise StoreLoadError(f"{directory}: not a signature store (no {MANIFEST})")
        try:
            return read_consistently(directory, cls._read)
        except ChecksumMismatchError as e:
            raise StoreLoadError(f"{e}. Restore the store from a copy, or enrol its writers again") from None
        except CorruptFileError as e:
            raise StoreLoadError(f"{e}. Restore the store from a copy, or enrol its writers again") from None
        except (StaleReadError, OSError) as e:
            raise StoreLoadError(f"{directory}: {e}") from None

    @classmethod
    def _read(cls, files: StoredFiles) -> ReferenceStore:
        directory = files.directory
        try:
            raw = json.loads(files.read_bytes(MANIFEST, editable=True))
        except ValueError as e:
            raise CorruptFileError(directory / MANIFEST, f"not valid JSON: {e}") from None
        manifest: Manifest = check_manifest(raw, directory / MANIFEST)
        stored_model = manifest.model
        store = cls(ModelIdentity(stored_model.fingerprint, stored_model.path, stored_model.dim))
        for writer, stored in manifest.writers.items():
            name = stored.file
            if not files.exists(name):
                raise CorruptFileError(directory / name, f"missing (writer {writer!r})")
            expected = manifest.file_sizes.get(name)
            if expected is not None and files.size(name) != expected:
                raise CorruptFileError(
                    directory / name,
                    f"has {files.size(name):,} bytes, the manifest says {expected:,} (truncated or replaced)",
                )
            data = files.read_bytes(name)
            trajectories, vectors = decode_writer(data, directory / name, stored, stored_model.dim)
            store._references[writer] = trajectories
            store._vectors[writer] = vectors
        store.path = directory
        return store
