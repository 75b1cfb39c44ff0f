"""What a model's `config.json` may hold: each setting's type and range, checked before anything is built.

The checks only accept or refuse: the encoder is built from the settings exactly as stored, so a model's
fingerprint (and every index built with it) does not depend on this file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from siamdup.storage import CorruptFileError, check_format, validated

FORMAT = "siamdup-model"
FORMAT_VERSION = 1
ARCHITECTURES = ("lstm", "transformer", "ensemble")

Positive = Annotated[StrictInt, Field(ge=1)]
NonNegative = Annotated[StrictInt, Field(ge=0)]
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LSTMSettings(Strict):
    vocab_size: Positive
    d_model: Positive = 128
    num_layers: Positive = 1
    bidirectional: StrictBool = False
    dropout: Annotated[Finite, Field(ge=0, lt=1)] = 0.0
    pad_id: NonNegative = 0
    embedding_dim: Positive | None = None
    pooling: Literal["mean", "mean+max"] = "mean"


class TransformerSettings(Strict):
    hf_config: dict
    cls_id: NonNegative
    sep_id: NonNegative
    pad_id: NonNegative
    bf16: StrictBool = True


class Member(Strict):
    architecture: Literal["lstm", "transformer"]
    encoder: dict


class EnsembleSettings(Strict):
    members: Annotated[list[Member], Field(min_length=2)]
    weights: list[Annotated[Finite, Field(ge=0)]]

    @field_validator("weights")
    @classmethod
    def _sum_to_one(cls, weights: list[float]) -> list[float]:
        if not math.isclose(sum(weights), 1.0, abs_tol=1e-6):
            raise ValueError(f"ensemble weights must sum to 1, they sum to {sum(weights)}")
        return weights


SETTINGS: dict[str, type[BaseModel]] = {
    "lstm": LSTMSettings,
    "transformer": TransformerSettings,
    "ensemble": EnsembleSettings,
}


class TokenizerSettings(Strict):
    file: Literal["tokenizer.json"] = "tokenizer.json"
    max_length: Positive


class ModelConfig(BaseModel):
    model_config = ConfigDict(extra="allow")  # training adds its own notes (threshold_source, ...)

    format: Literal["siamdup-model"]
    format_version: Literal[1]
    architecture: Literal["lstm", "transformer", "ensemble"] = "lstm"
    encoder: dict
    tokenizer: TokenizerSettings
    threshold: Annotated[Finite, Field(ge=-1, le=1)]
    siamdup_version: StrictStr | None = None


def check_encoder_settings(architecture: str, settings: dict, path: Path, field: str = "encoder") -> None:
    """Refuse (naming `path` and the field) encoder settings of the wrong type or range."""
    validated(SETTINGS[architecture], settings, path, where=f"{field}: ")
    if architecture == "ensemble":
        for n, member in enumerate(settings["members"]):
            check_encoder_settings(member["architecture"], member["encoder"], path, f"{field}.members.{n}")


def check_config(data: object, path: Path) -> ModelConfig:
    """The config read from `path`, each setting checked; `CorruptFileError` names the wrong field."""
    check_format(data, path, "model", FORMAT, FORMAT_VERSION)
    if isinstance(data, dict) and data.get("architecture", "lstm") not in ARCHITECTURES:
        raise CorruptFileError(
            path,
            f"unknown architecture {data['architecture']!r} (this siamdup has {', '.join(ARCHITECTURES)})",
        )
    config = validated(ModelConfig, data, path)
    check_encoder_settings(config.architecture, config.encoder, path)
    return config
