"""What a signature model's `config.json` may hold, each setting checked before anything is built."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from siamdup.signatures.scoring import NORMALISATIONS
from siamdup.storage import CorruptFileError, check_format, validated
from siamdup.trajectory.features import CHANNELS

FORMAT = "siamdup-signature-model"
FORMAT_VERSION = 1
AGGREGATIONS = ("max", "mean")
__all__ = ["AGGREGATIONS", "NORMALISATIONS", "SignatureConfig", "check_signature_config"]

Positive = Annotated[StrictInt, Field(ge=1)]
Finite = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Channel = Literal[CHANNELS]  # type: ignore[valid-type]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EncoderSettings(Strict):
    in_features: Positive
    d_model: Annotated[StrictInt, Field(ge=2, le=4096)] = 64
    num_layers: Annotated[StrictInt, Field(ge=1, le=8)] = 1
    bidirectional: StrictBool = True
    dropout: Annotated[Finite, Field(ge=0, lt=1)] = 0.0


class FeatureSettings(Strict):
    length: Annotated[StrictInt, Field(ge=4, le=100_000)] = 128
    channels: Annotated[list[Channel], Field(min_length=1)]
    standardise: StrictBool = False


class FusionSettings(Strict):
    weight: Annotated[Finite, Field(ge=0, le=1)]
    model_mean: Finite
    model_std: Annotated[Finite, Field(gt=0)]
    dtw_mean: Finite
    dtw_std: Annotated[Finite, Field(gt=0)]


class SignatureConfig(BaseModel):
    model_config = ConfigDict(extra="allow")  # training adds its notes (split, dev figures, ...)

    format: Literal["siamdup-signature-model"]
    format_version: Literal[1]
    architecture: Literal["trajectory-lstm"] = "trajectory-lstm"
    encoder: EncoderSettings
    features: FeatureSettings
    aggregation: Literal["max", "mean"] = "max"
    normalisation: Literal["none", "reference-spread", "reference-z"] = "none"
    fusion: FusionSettings | None = None
    threshold: Finite
    siamdup_version: StrictStr | None = None


def check_signature_config(data: object, path: Path) -> SignatureConfig:
    """The config read from `path`, each setting checked; `CorruptFileError` names the wrong field."""
    check_format(data, path, "signature model", FORMAT, FORMAT_VERSION)
    config = validated(SignatureConfig, data, path)
    if config.encoder.in_features != len(config.features.channels):
        raise CorruptFileError(
            path,
            f"field encoder.in_features: {config.encoder.in_features} does not match the "
            f"{len(config.features.channels)} feature channels",
        )
    return config
