"""`ImageModel`: the image encoder and its decision threshold τ, saved together like `Siamese`.

A model directory holds `model.safetensors` (weights), `config.json` (format, encoder settings, τ, the
siamdup version that saved it, training notes), after training `metrics.json`, and `checksums.sha256`
(verified on load). Nothing is pickled; saves take the directory's writer lock and are atomic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from safetensors.torch import save_file

from siamdup.image.encoder import ImageEncoder, ImageEncoderConfig
from siamdup.image.reading import read_image
from siamdup.image.views import IDENTITY, View, embed_views
from siamdup.storage import (
    StoredFiles,
    atomic_directory,
    check_format,
    validated,
)
from siamdup.storage.stored_model import load_stored, load_weights, read_config

FORMAT = "siamdup-image-model"
FORMAT_VERSION = 1
FILES = ("config.json", "model.safetensors")
DEFAULT_THRESHOLD = 0.5  # until training tunes τ on held-out pairs

Positive = Annotated[StrictInt, Field(ge=1)]


def default_image_model_path() -> Path:
    """The image model that ships inside the package."""
    return Path(str(resources.files("siamdup.image") / "default_model"))


class ImageModelLoadError(ValueError):
    """An image model directory is missing, incomplete, damaged or of another format."""


class CNNSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: Annotated[StrictInt, Field(ge=8, le=512)]
    channels: Positive
    blocks: Annotated[StrictInt, Field(ge=1, le=8)]
    dim: Positive


class ImageModelConfig(BaseModel):
    model_config = ConfigDict(extra="allow")  # training adds its notes (threshold_source, data, ...)

    format: Literal["siamdup-image-model"]
    format_version: Literal[1]
    architecture: Literal["cnn"]
    encoder: CNNSettings
    threshold: Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-1, le=1)]
    views: Annotated[list[View], Field(min_length=1, max_length=32)] = [View()]
    siamdup_version: StrictStr | None = None


class ImageModel:
    """Twin-CNN image matcher: `embed`, `embed_files`, `compare`, `save`, `load`."""

    def __init__(
        self,
        encoder: ImageEncoder,
        threshold: float = DEFAULT_THRESHOLD,
        metadata: dict | None = None,
        views: Sequence[View] = IDENTITY,
    ) -> None:
        self.encoder = encoder
        self.threshold = float(threshold)
        self.views = tuple(views)  # test-time views whose vectors are averaged (views.py)
        self.metadata = dict(metadata or {})
        self.path: Path | None = None

    @classmethod
    def untrained(cls, config: ImageEncoderConfig | None = None, seed: int = 0) -> ImageModel:
        """A model with freshly initialised weights (the same ones for the same seed)."""
        torch.manual_seed(seed)
        return cls(ImageEncoder(config))

    @property
    def size(self) -> int:
        """The side, in pixels, images are resized to."""
        return self.encoder.config.size

    @torch.inference_mode()
    def embed(self, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Unit vectors (n, dim) float32 of images (n, size, size), ink high (as `read_image` gives): the
        mean over the model's test-time `views`, normalised."""
        images = np.asarray(images, dtype=np.float32)
        if images.ndim != 3 or images.shape[1:] != (self.size, self.size):
            raise ValueError(
                f"embed() takes images of shape (n, {self.size}, {self.size}), got {images.shape}"
            )
        was_training = self.encoder.training
        self.encoder.eval()
        out = np.empty((len(images), self.encoder.dim), dtype=np.float32)
        for start in range(0, len(images), batch_size):
            chunk = torch.from_numpy(images[start : start + batch_size])
            out[start : start + batch_size] = embed_views(self.encoder, chunk, self.views).numpy()
        self.encoder.train(was_training)
        return out

    def embed_files(self, paths: Sequence[str | Path]) -> np.ndarray:
        """Unit vectors of PNG/JPEG files; `ImageReadError` names a file that cannot be read."""
        if not paths:
            return np.empty((0, self.encoder.dim), dtype=np.float32)
        return self.embed(np.stack([read_image(p, self.size) for p in paths]))

    def compare(self, a: str | Path, b: str | Path) -> tuple[float, bool]:
        """Cosine similarity of two image files, and whether it is above τ (the same character/writer)."""
        va, vb = self.embed_files([a, b])
        score = float(va @ vb)
        return score, score > self.threshold

    # -- persistence -------------------------------------------------------------------------------

    def config(self) -> dict:
        from siamdup import __version__

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "architecture": ImageEncoder.architecture,
            "encoder": self.encoder.config.to_dict(),
            "threshold": self.threshold,
            "views": [view.model_dump() for view in self.views],
            **self.metadata,
            "siamdup_version": __version__,
        }

    def save_files(self, folder: Path) -> None:
        """Write the model's files into `folder` as they are (callers make it atomic)."""
        state = {k: v.detach().to("cpu").contiguous() for k, v in self.encoder.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"), metadata={"format": FORMAT})
        (folder / "config.json").write_text(json.dumps(self.config(), indent=2) + "\n")

    def save(self, directory: str | Path, extra_files: dict[str, dict] | None = None) -> Path:
        """Save atomically under the directory's writer lock; `extra_files` maps a name to a JSON object."""
        with atomic_directory(directory) as staging:
            self.save_files(staging)
            for name, obj in (extra_files or {}).items():
                (staging / name).write_text(json.dumps(obj, indent=2) + "\n")
        return Path(directory)

    @classmethod
    def load(cls, path: str | Path) -> ImageModel:
        """Load a model directory, every file checked against its checksum and every setting for type and
        range: `ImageModelLoadError` names the file (and field) at fault. Loading changes nothing."""
        directory = Path(path)
        if not directory.is_dir():
            raise ImageModelLoadError(f"no image model directory at {directory}")
        return load_stored(
            directory,
            lambda files: cls._read(files, directory),
            ImageModelLoadError,
            "Restore the model directory from a copy, or train it again",
        )

    @classmethod
    def _read(cls, files: StoredFiles, directory: Path) -> ImageModel:
        missing = [n for n in FILES if not files.exists(n)]
        if missing:
            raise ImageModelLoadError(
                f"{directory} is not a siamdup image model: missing {', '.join(missing)}"
            )
        config_path = directory / "config.json"
        raw = read_config(files)
        check_format(raw, config_path, "image model", FORMAT, FORMAT_VERSION)
        config = validated(ImageModelConfig, raw, config_path)
        encoder = ImageEncoder(ImageEncoderConfig(**config.encoder.model_dump()))
        load_weights(files, encoder)
        encoder.eval()
        metadata = {k: v for k, v in raw.items() if k not in ImageModelConfig.model_fields}
        model = cls(encoder, config.threshold, metadata, config.views)
        model.path = directory
        return model
