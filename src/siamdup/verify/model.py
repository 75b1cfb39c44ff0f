"""`Verifier`: the cross-encoder, MiniLM's tokenizer, the calibration temperature and the decision threshold,
saved together.

A verifier directory holds `model.safetensors` (weights), `config.json` (architecture, tokenizer settings,
threshold, temperature, the siamdup version that saved it), `tokenizer.json`, after training `metrics.json`,
after `export_onnx` `model.onnx` (and `model.int8.onnx`), and `checksums.sha256` (every file's SHA-256,
verified on load). Nothing is pickled; saves take the directory's writer lock and are atomic (see
`siamdup.storage`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file

from siamdup.model.siamese import pick_device
from siamdup.storage import (
    CorruptFileError,
    StoredFiles,
    atomic_directory,
)
from siamdup.storage.stored_model import load_stored, load_weights, read_config
from siamdup.tokenizer import Tokenizer
from siamdup.verify.cross_encoder import CrossEncoder, CrossEncoderConfig, PairInputs
from siamdup.verify.saved_config import ARCHITECTURE, FORMAT, FORMAT_VERSION, VerifierConfig, check_config
from siamdup.verify.scoring import PairScorer

FILES = ("config.json", "model.safetensors", "tokenizer.json")
NO_DEFAULT = (
    "no verifier ships with siamdup: train one with `siamdup train --recipe verifier --train TRAIN --dev DEV "
    "--out DIR` and pass its directory"
)


class VerifierLoadError(ValueError):
    """A verifier directory is missing, incomplete, damaged or of another format."""


class Verifier(PairScorer):
    """Cross-encoder duplicate verifier: `score`, `predict`, `save`, `load`; see the module docstring."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        encoder: CrossEncoder,
        threshold: float = 0.5,
        temperature: float = 1.0,
        metadata: dict | None = None,
    ) -> None:
        super().__init__(tokenizer, encoder.config, threshold, temperature)
        self.encoder = encoder
        self.metadata = dict(metadata or {})
        self.path: Path | None = None  # the directory it was loaded from, if any

    @property
    def device(self) -> torch.device:
        return next(self.encoder.parameters()).device

    def to(self, device: str | torch.device) -> Verifier:
        self.encoder.to(device)
        return self

    @torch.inference_mode()
    def _batch_logits(self, inputs: PairInputs) -> np.ndarray:
        was_training = self.encoder.training
        self.encoder.eval()
        logits = self.encoder.score_inputs(inputs.to(self.device)).cpu().numpy()
        self.encoder.train(was_training)
        return logits

    # -- persistence -------------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        from siamdup import __version__

        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "architecture": ARCHITECTURE,
            "encoder": self.encoder.config.to_dict(),
            "tokenizer": {"file": "tokenizer.json", "max_length": self.tokenizer.max_length},
            "threshold": self.threshold,
            "temperature": self.temperature,
            **self.metadata,
            "siamdup_version": __version__,
        }

    def save_files(self, folder: Path) -> None:
        """Write the verifier's files into `folder` as they are (callers make it atomic)."""
        state = {k: v.detach().to("cpu").contiguous() for k, v in self.encoder.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"), metadata={"format": FORMAT})
        self.tokenizer.save(folder / "tokenizer.json")
        (folder / "config.json").write_text(json.dumps(self.config(), indent=2) + "\n")

    def save(self, directory: str | Path, extra_files: dict[str, dict] | None = None) -> Path:
        """Save atomically under the directory's writer lock; `extra_files` maps a file name to a JSON object
        saved beside (e.g. metrics). An ONNX export already there no longer loads (it records the weights it
        was exported from): export again."""
        directory = Path(directory)
        with atomic_directory(directory) as staging:
            self.save_files(staging)
            for name, obj in (extra_files or {}).items():
                (staging / name).write_text(json.dumps(obj, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, path: str | Path | None = None, device: str | None = None) -> Verifier:
        """Load a verifier directory (every file checked against its checksum, every setting for type and
        range); `VerifierLoadError` names the file and field at fault. `None`: no verifier ships with siamdup
        yet, so it names how to train one."""
        if path is None:
            raise VerifierLoadError(NO_DEFAULT)
        directory = Path(path)
        verifier = read_verifier(
            directory, lambda files, config, tokenizer: cls._build(files, config, tokenizer)
        )
        return verifier.to(pick_device(device))

    @classmethod
    def _build(cls, files: StoredFiles, config: VerifierConfig, tokenizer: Tokenizer) -> Verifier:
        directory = files.directory
        encoder = CrossEncoder(CrossEncoderConfig(**config.encoder.model_dump()))
        load_weights(files, encoder, "network")
        encoder.eval()
        verifier = cls(tokenizer, encoder, config.threshold, config.temperature, metadata_of(config))
        verifier.path = directory
        return verifier


def metadata_of(config: VerifierConfig) -> dict:
    """The notes training added to config.json (where the threshold came from, the calibration)."""
    return dict(config.model_extra or {})


def read_verifier(directory: Path, build: Any) -> Any:
    """Read a verifier directory consistently: check its files and config, read its tokenizer, and
    return `build(files, config, tokenizer)`, with every storage error turned into `VerifierLoadError`."""
    if not directory.is_dir():
        raise VerifierLoadError(f"no verifier directory at {directory}")

    def read(files: StoredFiles) -> Any:
        missing = [n for n in FILES if not files.exists(n)]
        if missing:
            raise VerifierLoadError(f"{directory} is not a siamdup verifier: missing {', '.join(missing)}")
        config_path = directory / "config.json"
        raw = read_config(files)
        config = check_config(raw, config_path)
        try:
            tokenizer = Tokenizer.from_json(files.read_bytes("tokenizer.json"), config.tokenizer.max_length)
        except ValueError as e:
            raise CorruptFileError(directory / "tokenizer.json", str(e)) from None
        return build(files, config, tokenizer)

    return load_stored(
        directory, read, VerifierLoadError, "Restore the verifier directory from a copy, or train it again"
    )
