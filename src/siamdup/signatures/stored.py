"""What an enrolment store's files may hold, checked as they are read: the manifest field by field, and
each writer's file tensor by tensor. Errors name the file and the field (or tensor)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from safetensors import SafetensorError
from safetensors.numpy import load as load_tensors

from siamdup.storage import CorruptFileError, check_format, validated
from siamdup.trajectory.points import OPTIONAL, REQUIRED, Trajectory, TrajectoryFormatError

FORMAT = "siamdup-signatures"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MAX_WRITER_CHARS = 64
WRITER_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.@+-]{{0,{MAX_WRITER_CHARS - 1}}}$"
_WRITER = re.compile(WRITER_PATTERN)
WRITER_RULE = (
    f"1 to {MAX_WRITER_CHARS} characters: letters, digits and _ . @ + -, starting with a letter or a digit"
)

NonNegative = Annotated[StrictInt, Field(ge=0)]
Positive = Annotated[StrictInt, Field(ge=1)]
Column = Literal["x", "y", "t", "pen_down", "azimuth", "altitude", "pressure"]  # as `Trajectory` names them


class InvalidWriterError(ValueError):
    """A writer id that could be mistaken for something else (a path, an empty name)."""


def check_writer(writer: object) -> str:
    """`writer` if it is a valid writer id, else `InvalidWriterError` saying what ids may hold."""
    if not isinstance(writer, str) or not _WRITER.fullmatch(writer):
        shown = repr(writer)[:80]
        raise InvalidWriterError(f"writer id {shown} is not valid: {WRITER_RULE}")
    return writer


def writer_file(writer: str) -> str:
    """The file holding a writer's references: named by a hash, so ids that differ only in case (or
    anything a file system treats specially) never share a file."""
    return f"writer-{hashlib.sha256(writer.encode()).hexdigest()[:20]}.safetensors"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoredReference(Strict):
    source: StrictStr
    columns: Annotated[list[Column], Field(min_length=len(REQUIRED))]
    points: Positive


class StoredWriter(Strict):
    file: Annotated[StrictStr, Field(pattern=r"^writer-[0-9a-f]{20}\.safetensors$")]
    references: Annotated[list[StoredReference], Field(min_length=1)]


class StoredModel(Strict):
    fingerprint: StrictStr
    path: StrictStr | None
    dim: Positive


class Manifest(BaseModel):
    format: Literal["siamdup-signatures"]
    format_version: Literal[1]
    model: StoredModel
    writers: dict[StrictStr, StoredWriter]
    file_sizes: dict[Annotated[StrictStr, Field(pattern=r"^[^/\\]+$")], NonNegative]


def check_manifest(data: object, path: Path) -> Manifest:
    """The manifest read from `path`, each field checked; `CorruptFileError` names the wrong one."""
    check_format(data, path, "signature store", FORMAT, FORMAT_VERSION)
    manifest = validated(Manifest, data, path)
    for writer, stored in manifest.writers.items():
        if not _WRITER.fullmatch(writer):
            raise CorruptFileError(path, f"field writers: {writer[:80]!r} is not a valid writer id")
        if stored.file != writer_file(writer):
            raise CorruptFileError(path, f"field writers.{writer}.file: expected {writer_file(writer)}")
        for n, reference in enumerate(stored.references):
            if tuple(reference.columns[:4]) != REQUIRED or not set(reference.columns[4:]) <= set(OPTIONAL):
                raise CorruptFileError(
                    path,
                    f"field writers.{writer}.references.{n}.columns: {reference.columns} is not a layout",
                )
    return manifest


def encode_writer(trajectories: list[Trajectory], vectors: np.ndarray) -> dict[str, np.ndarray]:
    """The tensors of a writer's file: each reference's points, and their vectors (one row each)."""
    tensors = {f"points.{i}": np.ascontiguousarray(t.points, np.float64) for i, t in enumerate(trajectories)}
    tensors["vectors"] = np.ascontiguousarray(vectors, np.float32)
    return tensors


def decode_writer(
    data: bytes, path: Path, stored: StoredWriter, dim: int
) -> tuple[list[Trajectory], np.ndarray]:
    """A writer's references and vectors from its file's bytes, each tensor checked against the manifest."""
    try:
        tensors = load_tensors(data)
    except SafetensorError as e:
        raise CorruptFileError(path, f"not readable tensors: {e}") from None
    n = len(stored.references)
    expected = {f"points.{i}" for i in range(n)} | {"vectors"}
    if set(tensors) != expected:
        raise CorruptFileError(
            path, f"holds tensors {sorted(tensors)}, the manifest describes {sorted(expected)}"
        )
    vectors = tensors["vectors"]
    if vectors.dtype != np.float32 or vectors.shape != (n, dim):
        raise CorruptFileError(
            path, f"vectors are {vectors.dtype} {vectors.shape}, expected float32 ({n}, {dim})"
        )
    trajectories = []
    for i, reference in enumerate(stored.references):
        points = tensors[f"points.{i}"]
        if points.dtype != np.float64 or points.shape != (reference.points, len(reference.columns)):
            raise CorruptFileError(
                path,
                f"tensor points.{i} is {points.dtype} {points.shape}, the manifest says float64 "
                f"({reference.points}, {len(reference.columns)})",
            )
        try:
            trajectories.append(Trajectory(points, tuple(reference.columns), reference.source))
        except (TrajectoryFormatError, ValueError) as e:
            raise CorruptFileError(path, f"reference {i}: {e}") from None
    return trajectories, vectors
