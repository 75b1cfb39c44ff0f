"""`SignatureVerifier`: enrol a writer's signatures once, then verify new ones against them (one-shot).

    from siamdup.signatures.verifier import SignatureVerifier

    verifier = SignatureVerifier.open("signatures/", model="models/signatures")
    verifier.enrol("alice", ["alice1.TXT", "alice2.TXT", "alice3.TXT"])
    result = verifier.verify("alice", "new.TXT")
    print(result.score, result.genuine)

Enrolling embeds the references with the model and stores both (see `ReferenceStore`); verifying embeds
only the new signature and scores it against the stored vectors. The store records which model made its
vectors: opened with another model, the vectors are derived again from the stored trajectories.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from siamdup.signatures.model import SignatureModel, SignatureModelLoadError, default_signature_model_path
from siamdup.signatures.references import (
    ModelIdentity,
    ReferenceStore,
    StoreLoadError,
    UnknownWriterError,
)
from siamdup.signatures.stored import InvalidWriterError, check_writer
from siamdup.trajectory.points import Trajectory, TrajectoryFormatError, read_trajectory

__all__ = [
    "InvalidWriterError",
    "SignatureBatch",
    "SignatureVerifier",
    "StoreLoadError",
    "TrajectoryFormatError",
    "UnknownWriterError",
    "Verification",
    "read_signatures",
]

SignatureLike = Trajectory | str | Path


@dataclass(frozen=True)
class Verification:
    """A signature scored against a writer's references: `genuine` is `score > threshold`.

    `reference_scores`: the cosine similarity to each reference, in the order they were enrolled (the
    score aggregates them as the model says, their max or mean, and fuses DTW when the model's rule does).
    """

    writer: str
    score: float
    genuine: bool
    threshold: float
    reference_scores: list[float]


@dataclass
class SignatureBatch:
    """Signatures read from files: those that could be read, and `(path, reason)` for each skipped."""

    trajectories: list[Trajectory] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def read_signatures(paths: Iterable[str | Path]) -> SignatureBatch:
    """Read trajectory files (SVC2004 .TXT, .json, .csv), skipping and counting those that are bad."""
    batch = SignatureBatch()
    for path in paths:
        try:
            batch.trajectories.append(read_trajectory(path))
        except TrajectoryFormatError as e:
            batch.skipped.append((str(path), str(e)))
    return batch


def _as_trajectory(item: SignatureLike) -> Trajectory:
    if isinstance(item, Trajectory):
        return item
    if isinstance(item, str | Path):
        return read_trajectory(item)
    raise TypeError(f"expected a Trajectory or a file path, got {type(item).__name__}")


def model_identity(model: SignatureModel) -> ModelIdentity:
    """What makes a model's vectors what they are: encoder and feature settings and the weights (not τ
    nor the scoring rule, which change no vector)."""
    h = hashlib.sha256()
    settings = {"encoder": model.encoder.config.to_dict(), "features": model.features.to_dict()}
    h.update(json.dumps(settings, sort_keys=True).encode())
    for name, tensor in sorted(model.encoder.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    path = None
    if model.path is not None and model.path.resolve() != default_signature_model_path().resolve():
        path = str(model.path.resolve())
    return ModelIdentity(h.hexdigest()[:16], path, model.dim)


def load_signature_model(path: str | Path | None) -> SignatureModel:
    """A signature model from `path`; None: the one shipped with siamdup (a clear error if none ships)."""
    if path is None and not default_signature_model_path().is_dir():
        raise SignatureModelLoadError(
            "no signature model ships with this siamdup: pass a model directory (--model DIR), e.g. one "
            "trained with `siamdup signatures train`"
        )
    return SignatureModel.load(path)


class SignatureVerifier:
    """A signature model and an enrolment store; safe to share between threads."""

    def __init__(self, model: SignatureModel, store: ReferenceStore) -> None:
        self.model = model
        self.store = store
        self.identity = model_identity(model)
        self.reembedded = 0  # references whose vectors were derived again for this model on open
        self._lock = threading.RLock()
        if store.model.fingerprint != self.identity.fingerprint:
            self._reembed()

    @classmethod
    def open(cls, store: str | Path, model: SignatureModel | str | Path | None = None) -> SignatureVerifier:
        """The store at `store` (a new, empty one if the folder is missing or empty; saved at the first
        enrol) with `model`: a loaded model, a model directory, or None for the model the store records
        (or, for a new store, the one shipped with siamdup).

        Raises `StoreLoadError` (a damaged store, or a folder holding other files) and
        `SignatureModelLoadError` (no usable model).
        """
        directory = Path(store)
        if ReferenceStore.is_store(directory):
            references = ReferenceStore.load(directory)
            if model is None:
                model = references.model.path
        elif ReferenceStore.is_free(directory):
            references = None
        else:
            raise StoreLoadError(
                f"{directory} holds other files but no signature store; give a new or empty folder"
            )
        if not isinstance(model, SignatureModel):
            recorded = references is not None and model is not None and model == references.model.path
            try:
                model = load_signature_model(model)
            except SignatureModelLoadError as e:
                if not recorded:
                    raise
                raise SignatureModelLoadError(
                    f"{directory} was enrolled with the model at {model}, which cannot be loaded ({e}); "
                    "pass a model explicitly (its vectors are derived again from the stored signatures)"
                ) from None
        if references is None:
            references = ReferenceStore(model_identity(model))
            references.path = directory
        return cls(model, references)

    def _reembed(self) -> None:
        vectors = {w: self.model.embed(self.store.references(w)) for w in self.store.writers()}
        self.reembedded = sum(len(v) for v in vectors.values())
        self.store.replace_model(self.identity, vectors)

    @property
    def threshold(self) -> float:
        """τ: a signature is genuine when its score is above it (the model's stored threshold)."""
        return self.model.threshold

    def writers(self) -> list[str]:
        """The enrolled writer ids, sorted."""
        with self._lock:
            return self.store.writers()

    def references(self, writer: str) -> list[Trajectory]:
        """A writer's reference trajectories, in the order enrolled (`UnknownWriterError` if none)."""
        with self._lock:
            return self.store.references(writer)

    def enrol(self, writer: str, signatures: Sequence[SignatureLike]) -> int:
        """Add reference signatures (trajectories or files) for `writer`, new or known, and save the store;
        returns how many references the writer has now. Nothing is retrained.

        Raises `InvalidWriterError`, `TrajectoryFormatError` (naming the bad file; nothing is enrolled),
        `ValueError` (no signatures, or over the per-writer limit).
        """
        check_writer(writer)
        if isinstance(signatures, Trajectory | str | Path):
            raise TypeError("enrol() takes a list of signatures; wrap a single one in a list")
        trajectories = [_as_trajectory(s) for s in signatures]
        if not trajectories:
            raise ValueError(f"no signatures to enrol for writer {writer!r}")
        vectors = self.model.embed(trajectories)
        with self._lock:
            before = len(self.store.references(writer)) if writer in self.store else 0
            count = self.store.add(writer, trajectories, vectors)
            try:
                self.store.save()
            except BaseException:
                self.store.truncate(writer, before)  # memory stays what the disk holds
                raise
        return count

    def verify(self, writer: str, signature: SignatureLike) -> Verification:
        """Score a signature (a trajectory or a file) against `writer`'s references and decide.

        Raises `UnknownWriterError` (nothing enrolled for `writer`), `TrajectoryFormatError`.
        """
        check_writer(writer)
        with self._lock:
            references = self.store.vectors(writer)
            reference_signatures = self.store.references(writer)
        trajectory = _as_trajectory(signature)
        query = self.model.embed([trajectory])[0]
        score = self.model.score_signatures(reference_signatures, trajectory, references, query)
        return Verification(
            writer=writer,
            score=score,
            genuine=self.model.decide(score),
            threshold=self.model.threshold,
            reference_scores=[float(s) for s in references @ query],
        )

    def describe(self) -> dict:
        """The store's size and the model's identity and τ."""
        with self._lock:
            writers = self.store.writers()
            references = sum(len(self.store.references(w)) for w in writers)
        return {
            "model": self.identity.fingerprint,
            "threshold": self.threshold,
            "aggregation": self.model.aggregation,
            "writers": len(writers),
            "references": references,
        }
