"""`Siamese`: the tokenizer, the shared encoder and the decision threshold τ, saved together.

A model directory holds `model.safetensors` (weights), `config.json` (architecture, tokenizer settings,
τ, the siamdup version that saved it), `tokenizer.json`, after training `metrics.json`, and
`checksums.sha256` (every file's SHA-256, verified on load). Nothing is pickled. Saves take the
directory's writer lock and are atomic; loads change nothing (see `siamdup.storage`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from siamdup.model.encoder import EncoderConfig, LSTMEncoder
from siamdup.model.ensemble import EnsembleConfig, EnsembleEncoder
from siamdup.model.onnx_runtime import (
    OnnxEncoder,
    OnnxExtraMissing,
    RuntimeUnavailable,
    open_graph,
    resolve_runtime,
)
from siamdup.model.saved_config import FORMAT, FORMAT_VERSION, check_config
from siamdup.model.transformer import TransformerConfig, TransformerEncoder
from siamdup.storage import (
    CorruptFileError,
    StoredFiles,
    atomic_directory,
)
from siamdup.storage.stored_model import load_stored, load_weights, read_config
from siamdup.tokenizer import Tokenizer

FILES = ("config.json", "model.safetensors", "tokenizer.json")
DEFAULT_THRESHOLD = 0.7  # the course default, used until a threshold is tuned on dev data
Encoder = LSTMEncoder | TransformerEncoder | EnsembleEncoder


class ModelLoadError(ValueError):
    """A model directory is missing, incomplete or of another format."""


def default_model_path() -> Path:
    """The model that ships inside the package."""
    return Path(str(resources.files("siamdup") / "default_model"))


def pick_device(device: str | None = None) -> torch.device:
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def build_encoder(architecture: str, settings: dict, directory: Path) -> Encoder:
    """An encoder of the saved architecture and settings, before its weights are loaded."""
    if architecture == LSTMEncoder.architecture:
        return LSTMEncoder(EncoderConfig(**settings))
    if architecture == TransformerEncoder.architecture:
        return TransformerEncoder(TransformerConfig(**settings))
    if architecture == EnsembleEncoder.architecture:
        config = EnsembleConfig(**settings)
        members = [build_encoder(m["architecture"], m["encoder"], directory) for m in config.members]
        return EnsembleEncoder(members, config.weights)
    raise ModelLoadError(
        f"{directory}: unknown architecture {architecture!r} (this siamdup has lstm, transformer, ensemble)"
    )


class Siamese:
    """Twin-encoder duplicate detector: `encode`, `similarity`, `predict`, `save`, `load`."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        encoder: Encoder,
        threshold: float = DEFAULT_THRESHOLD,
        metadata: dict | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.encoder = encoder
        self.threshold = float(threshold)
        self.metadata = dict(metadata or {})
        self.path: Path | None = None  # the directory it was loaded from, if any
        self._onnx: OnnxEncoder | None = None
        self._onnx_weights: tuple[int, int] | None = None  # the weights the graph was made from

    @property
    def runtime(self) -> str:
        """What `encode` runs on: "onnx" (the directory's exported graph) or "torch"."""
        return "onnx" if self._onnx_runner() is not None else "torch"

    def use_onnx(self, graph: OnnxEncoder | None) -> None:
        """Let `encode` run `graph` (None: PyTorch) for as long as the encoder's weights stay as they are."""
        self._onnx, self._onnx_weights = graph, self._weights_state() if graph is not None else None

    def _weights_state(self) -> tuple[int, int]:
        # Each in-place change of a tensor (an optimiser step, load_state_dict) bumps its version counter.
        return id(self.encoder), sum(p._version for p in self.encoder.parameters())

    def _onnx_runner(self) -> OnnxEncoder | None:
        """The ONNX graph while it still matches the encoder (same weights, on the CPU), else None."""
        if self._onnx is not None and (
            self._weights_state() != self._onnx_weights or self.device.type != "cpu"
        ):
            self.use_onnx(None)  # trained or moved since: the graph no longer describes it
        return self._onnx

    @property
    def device(self) -> torch.device:
        return next(self.encoder.parameters()).device

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def to(self, device: str | torch.device) -> Siamese:
        self.encoder.to(device)
        return self

    def encode_ids(self, ids: Sequence[Sequence[int]]) -> torch.Tensor:
        """Encode already-tokenized questions in one batch (gradients flow when training)."""
        batch, lengths = self.tokenizer.pad(ids)
        return self.encoder(batch.to(self.device), lengths.to(self.device))

    @torch.inference_mode()
    def encode(self, texts: Sequence[str], batch_size: int = 512) -> np.ndarray:
        """Unit vectors (len(texts), dim) as float32, in the order given."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of strings; wrap a single question in a list")
        return self.encode_tokenized(self.tokenizer.tokenize(texts), batch_size)

    @torch.inference_mode()
    def encode_tokenized(self, ids: Sequence[Sequence[int]], batch_size: int = 512) -> np.ndarray:
        """`encode` for questions already turned into token ids."""
        was_training = self.encoder.training
        self.encoder.eval()
        onnx = self._onnx_runner()
        # Encode in order of length so each batch carries little padding, then restore the order.
        order = np.argsort([len(x) for x in ids], kind="stable")
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        for start in range(0, len(ids), batch_size):
            rows = order[start : start + batch_size]
            batch = [ids[i] for i in rows]
            out[rows] = onnx(batch) if onnx is not None else self.encode_ids(batch).float().cpu().numpy()
        self.encoder.train(was_training)
        return out

    def similarity(self, a: Sequence[str], b: Sequence[str], batch_size: int = 512) -> np.ndarray:
        """Cosine similarity of a[i] and b[i] for each i."""
        if len(a) != len(b):
            raise ValueError(f"similarity() needs two lists of equal length, got {len(a)} and {len(b)}")
        va, vb = self.encode(a, batch_size), self.encode(b, batch_size)
        return np.einsum("ij,ij->i", va, vb)

    def predict(self, a: Sequence[str], b: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Similarities and duplicate decisions (similarity > τ)."""
        scores = self.similarity(a, b)
        return scores, scores > self.threshold

    def fingerprint(self) -> str:
        """Identity of the vectors this model makes: a hash of weights, architecture and vocabulary.

        τ is left out on purpose: retuning the threshold does not change a single vector, so an index
        built with the model stays valid.
        """
        h = hashlib.sha256()
        h.update(json.dumps(self.encoder.config.to_dict(), sort_keys=True).encode())
        h.update(self.tokenizer.hf.to_str().encode())
        h.update(str(self.tokenizer.max_length).encode())
        for name, tensor in sorted(self.encoder.state_dict().items()):
            h.update(name.encode())
            h.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
        return h.hexdigest()[:16]

    # -- persistence -------------------------------------------------------------------------------

    def config(self) -> dict:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "architecture": self.encoder.architecture,
            "encoder": self.encoder.config.to_dict(),
            "tokenizer": {"file": "tokenizer.json", "max_length": self.tokenizer.max_length},
            "threshold": self.threshold,
            **self.metadata,
            "siamdup_version": _siamdup_version(),
        }

    def save_files(self, folder: Path) -> None:
        """Write the model's files into `folder` as they are (callers make it atomic)."""
        state = {k: v.detach().to("cpu").contiguous() for k, v in self.encoder.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"), metadata={"format": FORMAT})
        self.tokenizer.save(folder / "tokenizer.json")
        (folder / "config.json").write_text(json.dumps(self.config(), indent=2) + "\n")

    def save(self, directory: str | Path, extra_files: dict[str, dict] | None = None) -> Path:
        """Save atomically, for use (training checkpoints use `save_files`): an embedding projection is
        folded into the table first, which keeps every vector and makes the file smaller. `extra_files` maps
        a file name to a JSON object saved beside (e.g. metrics). Takes the directory's writer lock for the
        save (`DirectoryLockedError`, naming the holder, when another process has it)."""
        model = Siamese(self.tokenizer, self.encoder.folded(), self.threshold, self.metadata)
        with atomic_directory(directory) as staging:
            model.save_files(staging)
            for name, obj in (extra_files or {}).items():
                (staging / name).write_text(json.dumps(obj, indent=2) + "\n")
        return Path(directory)

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        device: str | None = None,
        runtime: str | None = None,
        threads: int | None = None,
    ) -> Siamese:
        """Load a model directory; `None` loads the model shipped with siamdup.

        `runtime`: "auto" (default, or $SIAMDUP_RUNTIME) encodes with the directory's exported ONNX graph
        (`encoder.onnx`) when it has one made from its weights and ONNX Runtime is installed, else with
        PyTorch; "torch" always with PyTorch; "onnx" with the graph or not at all (`ModelLoadError` says
        why). `threads`: ONNX Runtime's threads (default: its own choice).

        Every file is checked against the checksums its save recorded, and every setting of config.json
        for type and range: `ModelLoadError` names the file (and field) at fault. Loading never changes the
        directory, and sees one whole save even while another process saves the model.
        """
        directory = Path(path) if path is not None else default_model_path()
        try:
            chosen = resolve_runtime(runtime)
        except ValueError as e:
            raise ModelLoadError(str(e)) from None
        if not directory.is_dir():
            raise ModelLoadError(f"no model directory at {directory}")
        target = pick_device(device)

        def read(files: StoredFiles) -> Siamese:
            try:
                return cls._read(files, directory, chosen, target.type == "cpu", threads)
            except (RuntimeUnavailable, OnnxExtraMissing) as e:  # runtime="onnx" where it cannot run
                raise ModelLoadError(str(e)) from None

        model = load_stored(
            directory,
            read,
            ModelLoadError,
            "Restore the model directory from a copy, or train or save it again "
            f"(delete {directory}/checksums.sha256 only if the change was yours)",
            corrupt_remedy="Fix that file, or train or save the model again",
        )
        return model.to(target)

    @classmethod
    def _read(
        cls, files: StoredFiles, directory: Path, runtime: str, on_cpu: bool, threads: int | None
    ) -> Siamese:
        missing = [n for n in FILES if not files.exists(n)]
        if missing:
            raise ModelLoadError(f"{directory} is not a siamdup model: missing {', '.join(missing)}")
        config_path = directory / "config.json"
        raw = read_config(files)
        config = check_config(raw, config_path)
        try:
            tokenizer = Tokenizer.from_json(files.read_bytes("tokenizer.json"), config.tokenizer.max_length)
        except ValueError as e:
            raise CorruptFileError(directory / "tokenizer.json", str(e)) from None
        encoder = build_encoder(config.architecture, config.encoder, directory)
        load_weights(files, encoder)
        encoder.eval()
        known = {"format", "format_version", "architecture", "encoder", "tokenizer", "threshold"}
        metadata = {k: v for k, v in raw.items() if k not in known | {"siamdup_version"}}
        model = cls(tokenizer, encoder, threshold=config.threshold, metadata=metadata)
        model.path = directory
        model.use_onnx(open_graph(files, runtime, tokenizer.pad, on_cpu, threads))
        return model


def _siamdup_version() -> str:
    from siamdup import __version__  # the package imports this module first

    return __version__
