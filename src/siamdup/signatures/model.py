"""`SignatureModel`: the trajectory encoder, its features, how a query is scored against a writer's
references, and the decision threshold τ, saved together.

A model directory holds `model.safetensors`, `config.json` (encoder and feature settings, aggregation,
score normalisation, the fusion with DTW when there is one, τ of the decision rule), after training `metrics.json`, and `checksums.sha256`, written and read through
`siamdup.storage` (writer lock, atomic save, checksums verified on load), as `siamdup.model.Siamese` does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from siamdup.signatures.config import FORMAT, FORMAT_VERSION, check_signature_config
from siamdup.signatures.fusion import DTW_FEATURES, FusionRule, dtw_scores
from siamdup.signatures.scoring import aggregate
from siamdup.storage import (
    StoredFiles,
    atomic_directory,
)
from siamdup.storage.stored_model import load_stored, load_weights, read_config
from siamdup.trajectory.encoder import TrajectoryEncoder, TrajectoryEncoderConfig
from siamdup.trajectory.features import FeatureConfig, feature_batch
from siamdup.trajectory.points import Trajectory

FILES = ("config.json", "model.safetensors")
DEFAULT_THRESHOLD = 0.5  # until a threshold is tuned on dev writers
KNOWN_KEYS = {"format", "format_version", "architecture", "encoder", "features", "aggregation"}
KNOWN_KEYS |= {"normalisation", "threshold", "siamdup_version", "fusion"}


class SignatureModelLoadError(ValueError):
    """A signature model directory that is missing, incomplete, damaged or of another format."""


def default_signature_model_path() -> Path:
    """The signature model that ships inside the package."""
    return Path(str(resources.files("siamdup") / "signatures" / "default_model"))


class SignatureModel:
    """Embeds signatures and scores a query against a writer's reference embeddings (one-shot)."""

    def __init__(
        self,
        encoder: TrajectoryEncoder,
        features: FeatureConfig,
        threshold: float = DEFAULT_THRESHOLD,
        aggregation: str = "max",
        normalisation: str = "none",
        metadata: dict | None = None,
        fusion: FusionRule | None = None,
    ) -> None:
        self.encoder = encoder.eval()
        self.features = features
        self.threshold = float(threshold)
        self.aggregation = aggregation
        self.normalisation = normalisation
        self.fusion = fusion  # None: the learned score alone decides
        self.metadata = dict(metadata or {})
        self.path: Path | None = None

    @classmethod
    def untrained(cls, seed: int = 0, **settings) -> SignatureModel:
        """A model with random weights: `settings` are encoder settings (d_model, num_layers,
        bidirectional, dropout), feature settings (length, channels, standardise), aggregation and normalisation."""
        keys = ("length", "channels", "standardise")
        features = FeatureConfig(**{k: settings.pop(k) for k in keys if k in settings})
        scoring = {k: settings.pop(k) for k in ("aggregation", "normalisation", "threshold") if k in settings}
        torch.manual_seed(seed)
        encoder = TrajectoryEncoder(TrajectoryEncoderConfig(in_features=features.width, **settings))
        return cls(encoder, features, **scoring)

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def features_of(self, trajectories: Sequence[Trajectory]) -> torch.Tensor:
        return torch.from_numpy(feature_batch(list(trajectories), self.features))

    @torch.inference_mode()
    def embed(self, trajectories: Sequence[Trajectory], batch_size: int = 256) -> np.ndarray:
        """Unit vectors (len(trajectories), dim) float32, in the order given."""
        if isinstance(trajectories, Trajectory):
            raise TypeError("embed() takes a list of trajectories; wrap a single one in a list")
        was_training = self.encoder.training
        self.encoder.eval()
        out = np.empty((len(trajectories), self.dim), dtype=np.float32)
        for start in range(0, len(trajectories), batch_size):
            steps = self.features_of(trajectories[start : start + batch_size])
            out[start : start + len(steps)] = self.encoder(steps).numpy()
        self.encoder.train(was_training)
        return out

    def score_many(self, references: np.ndarray, queries: np.ndarray) -> np.ndarray:
        """`score` of each row of `queries` (m, d) against the same `references` (k, d)."""
        references = np.atleast_2d(np.asarray(references, dtype=np.float32))
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        if len(references) == 0:
            raise ValueError("score() needs at least one reference embedding")
        between = references @ references.T if self.normalisation != "none" else None
        scores = aggregate(references @ queries.T, between, self.aggregation, self.normalisation)
        return scores.astype(np.float32)

    def score(self, references: np.ndarray, query: np.ndarray) -> float:
        """How genuine `query` (d,) looks against one writer's `references` (k, d): the max or mean of
        their cosine similarities (`aggregation`), optionally relative to the references' own spread.

        This is the learned score alone; a model whose rule fuses DTW (`fusion`) decides on
        `score_signatures`, which needs the signatures themselves.
        """
        if self.fusion is not None:
            raise ValueError(
                "this model's decision rule fuses the learned score with DTW: score the signatures "
                "themselves with score_signatures(references, signature)"
            )
        return float(self.score_many(references, query)[0])

    def score_signatures(
        self,
        references: Sequence[Trajectory],
        signature: Trajectory,
        reference_vectors: np.ndarray | None = None,
        vector: np.ndarray | None = None,
    ) -> float:
        """The score of the model's decision rule for `signature` against one writer's `references`,
        to compare with τ (`decide`). Vectors already computed (the references' at enrolment) may be
        passed to save embedding them again."""
        if len(references) == 0:
            raise ValueError("score_signatures() needs at least one reference signature")
        if reference_vectors is None:
            reference_vectors = self.embed(list(references))
        if vector is None:
            vector = self.embed([signature])[0]
        learned = self.score_many(reference_vectors, vector)
        if self.fusion is None:
            return float(learned[0])
        steps = feature_batch([*references, signature], DTW_FEATURES)
        return float(self.fusion.combine(learned, dtw_scores(steps[:-1], steps[-1:]))[0])

    def decide(self, score: float) -> bool:
        """Genuine iff the score is above τ."""
        return bool(score > self.threshold)

    # -- persistence -------------------------------------------------------------------------------

    def config(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "architecture": self.encoder.architecture,
            "encoder": self.encoder.config.to_dict(),
            "features": self.features.to_dict(),
            "aggregation": self.aggregation,
            "normalisation": self.normalisation,
            "threshold": self.threshold,
            **({"fusion": self.fusion.to_dict()} if self.fusion is not None else {}),
            **self.metadata,
            "siamdup_version": _siamdup_version(),
        }

    def save_files(self, folder: Path) -> None:
        """Write the model's files into `folder` as they are (callers make it atomic)."""
        state = {k: v.detach().cpu().contiguous() for k, v in self.encoder.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"), metadata={"format": FORMAT})
        (folder / "config.json").write_text(json.dumps(self.config(), indent=2) + "\n")

    def save(self, directory: str | Path, extra_files: dict[str, dict] | None = None) -> Path:
        """Save atomically under the directory's writer lock; `extra_files` maps a file name to a JSON
        object saved beside (e.g. metrics)."""
        with atomic_directory(directory) as staging:
            self.save_files(staging)
            for name, obj in (extra_files or {}).items():
                (staging / name).write_text(json.dumps(obj, indent=2) + "\n")
        return Path(directory)

    @classmethod
    def load(cls, path: str | Path | None = None) -> SignatureModel:
        """Load a model directory (`None`: the one shipped with siamdup); every file is checked against
        its recorded checksum and every setting for type and range (`SignatureModelLoadError`)."""
        directory = Path(path) if path is not None else default_signature_model_path()
        if not directory.is_dir():
            raise SignatureModelLoadError(f"no signature model directory at {directory}")
        return load_stored(
            directory,
            lambda files: cls._read(files, directory),
            SignatureModelLoadError,
            "Restore the model directory from a copy, or train or save it again",
        )

    @classmethod
    def _read(cls, files: StoredFiles, directory: Path) -> SignatureModel:
        missing = [n for n in FILES if not files.exists(n)]
        if missing:
            raise SignatureModelLoadError(
                f"{directory} is not a siamdup signature model: missing {', '.join(missing)}"
            )
        raw = read_config(files)
        config = check_signature_config(raw, directory / "config.json")
        features = FeatureConfig(
            config.features.length, tuple(config.features.channels), config.features.standardise
        )
        encoder = TrajectoryEncoder(TrajectoryEncoderConfig(**config.encoder.model_dump()))
        load_weights(files, encoder)
        metadata = {k: v for k, v in raw.items() if k not in KNOWN_KEYS}
        fusion = FusionRule(**config.fusion.model_dump()) if config.fusion is not None else None
        model = cls(
            encoder, features, config.threshold, config.aggregation, config.normalisation, metadata, fusion
        )
        model.path = directory
        return model


def _siamdup_version() -> str:
    from siamdup import __version__

    return __version__
