"""What the signature endpoints accept and answer, with their limits in the schema.

A signature travels as named columns and rows of numbers, the layout of `Trajectory`: x, y (y grows
upward, as on a tablet: flip screen coordinates), t in milliseconds, pen_down (1 or 0; 0 marks where the
pen landed or lifted), then any of azimuth, altitude, pressure.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from siamdup.signatures.references import MAX_REFERENCES
from siamdup.signatures.stored import MAX_WRITER_CHARS, WRITER_PATTERN, Column
from siamdup.trajectory.points import MIN_POINTS, OPTIONAL, REQUIRED, Trajectory

MAX_POINTS = 5000  # a slow signature on a 120 Hz pad; SVC2004's longest has 713
MAX_SIGNATURES = 20  # enrolled in one request

Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Row = Annotated[list[Finite], Field(min_length=len(REQUIRED), max_length=len(REQUIRED) + len(OPTIONAL))]
WriterId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_WRITER_CHARS,
        pattern=WRITER_PATTERN,
        description="The writer's id: letters, digits and _ . @ + -, starting with a letter or a digit.",
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignatureIn(_Strict):
    """One signature: `points` rows hold one number per column, in the order `columns` names them."""

    columns: list[Column] = Field(
        default=["x", "y", "t", "pen_down"],
        min_length=len(REQUIRED),
        max_length=len(REQUIRED) + len(OPTIONAL),
        description="x, y, t, pen_down, then any of azimuth, altitude, pressure.",
    )
    points: list[Row] = Field(
        min_length=MIN_POINTS, max_length=MAX_POINTS, description="One row a point, one number a column."
    )

    @model_validator(mode="after")
    def _layout(self) -> SignatureIn:
        if tuple(self.columns[:4]) != REQUIRED:
            raise ValueError(f"columns must start with {', '.join(REQUIRED)}")
        extra = self.columns[4:]
        if len(set(extra)) != len(extra) or not set(extra) <= set(OPTIONAL):
            raise ValueError(f"after pen_down, columns may name each of {', '.join(OPTIONAL)} once")
        width = len(self.columns)
        bad = next((i for i, row in enumerate(self.points) if len(row) != width), None)
        if bad is not None:
            raise ValueError(f"point {bad} has {len(self.points[bad])} numbers for {width} columns")
        return self

    def trajectory(self, source: str) -> Trajectory:
        """The signature as a `Trajectory` named `source` (in error messages and the store)."""
        points = np.array(self.points, dtype=np.float64)
        points[:, 3] = points[:, 3] != 0  # any non-zero pen state is pen-down, as in the file readers
        return Trajectory(points, tuple(self.columns), source)

    @classmethod
    def of(cls, trajectory: Trajectory) -> SignatureIn:
        """The request form of a trajectory (e.g. one read from a file)."""
        return cls.model_validate({"columns": list(trajectory.columns), "points": trajectory.points.tolist()})


class EnrolRequest(_Strict):
    writer: WriterId
    signatures: list[SignatureIn] = Field(min_length=1, max_length=MAX_SIGNATURES)


class EnrolResponse(BaseModel):
    writer: str
    added: int
    references: int = Field(description="How many references the writer has now.")


class VerifyRequest(_Strict):
    writer: WriterId
    signature: SignatureIn


class VerifyResponse(BaseModel):
    writer: str
    score: float = Field(description="The signature's score against the writer's references.")
    genuine: bool = Field(description="score > threshold.")
    threshold: float
    references: list[float] = Field(description="Cosine similarity to each reference, in enrolment order.")


class ReferenceOut(BaseModel):
    index: int
    source: str
    points: list[tuple[float, float, int]] = Field(description="[x, y, pen_down] rows, to draw it.")


class WriterReferences(BaseModel):
    writer: str
    references: list[ReferenceOut]


class SignaturesInfo(BaseModel):
    model: str = Field(description="Fingerprint of the signature model that makes the vectors.")
    threshold: float
    aggregation: str = Field(description="How the scores against each reference are combined: max or mean.")
    writers: int
    references: int
    enrolling_enabled: bool
    max_points: int = MAX_POINTS
    max_signatures: int = MAX_SIGNATURES
    max_references: int = MAX_REFERENCES
