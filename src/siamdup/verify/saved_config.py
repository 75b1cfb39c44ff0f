"""What a verifier's `config.json` may hold: each setting's type and range, checked before anything is built."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from siamdup.storage import check_format, validated

FORMAT = "siamdup-verifier"
FORMAT_VERSION = 1
ARCHITECTURE = "cross-encoder"

NonNegative = Annotated[StrictInt, Field(ge=0)]
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class CrossEncoderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hf_config: dict
    cls_id: NonNegative
    sep_id: NonNegative
    pad_id: NonNegative


class TokenizerSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file: Literal["tokenizer.json"] = "tokenizer.json"
    max_length: Annotated[StrictInt, Field(ge=1)]  # tokens kept per question


class VerifierConfig(BaseModel):
    model_config = ConfigDict(extra="allow")  # training adds its own notes (threshold_source, calibration)

    format: Literal["siamdup-verifier"]
    format_version: Literal[1]
    architecture: Literal["cross-encoder"]
    encoder: CrossEncoderSettings
    tokenizer: TokenizerSettings
    threshold: Annotated[Finite, Field(ge=0, le=1)]  # on the calibrated probability
    temperature: Annotated[Finite, Field(gt=0)] = 1.0
    siamdup_version: StrictStr | None = None


def check_config(data: object, path: Path) -> VerifierConfig:
    """The config read from `path`, each setting checked; `CorruptFileError` names the wrong field."""
    check_format(data, path, "verifier", FORMAT, FORMAT_VERSION)
    return validated(VerifierConfig, data, path)
