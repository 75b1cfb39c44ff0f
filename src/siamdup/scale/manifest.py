"""What an embeddings directory's `manifest.json` may hold, checked field by field as it is read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from siamdup.storage import check_format, validated

FORMAT: Final = "siamdup-embeddings"
FORMAT_VERSION: Final = 1

Positive = Annotated[StrictInt, Field(ge=1)]
NonNegative = Annotated[StrictInt, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputFile(Strict):
    """One input file, identified by its content so a changed file is never resumed as if it were the same."""

    path: StrictStr
    sha256: Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
    questions: NonNegative


class Reading(Strict):
    """How the inputs were read: the same file read another way gives other questions."""

    format: StrictStr
    text_column: StrictStr
    id_column: StrictStr | None


class ModelReference(Strict):
    fingerprint: StrictStr
    path: StrictStr | None


class Shard(Strict):
    """A finished shard: rows `start` .. `start + rows - 1` of the corpus."""

    number: NonNegative
    start: NonNegative
    rows: Positive


class Manifest(Strict):
    format: Literal["siamdup-embeddings"]
    format_version: Literal[1]
    dim: Positive
    model: ModelReference
    inputs: list[InputFile]
    reading: Reading
    questions: NonNegative
    shard_size: Positive
    shards: list[Shard]  # the finished ones, in order of number

    @property
    def n_shards(self) -> int:
        """How many shards the whole corpus takes."""
        return -(-self.questions // self.shard_size)

    @property
    def complete(self) -> bool:
        return len(self.shards) == self.n_shards


def check_manifest(data: object, path: Path) -> Manifest:
    check_format(data, path, "embeddings", FORMAT, FORMAT_VERSION)
    return validated(Manifest, data, path)


def shard_files(number: int) -> tuple[str, str]:
    """The vectors (`.npy`, float32) and the entries (`.jsonl`, one {"id", "text"} a line) of a shard."""
    return f"shard-{number:05d}.npy", f"shard-{number:05d}.jsonl"
