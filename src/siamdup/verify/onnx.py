"""The verifier on ONNX Runtime: `export_onnx` writes the cross-encoder as an ONNX graph (dynamic batch and
sequence axes) into the verifier's directory, optionally also int8-quantized; `OnnxVerifier` scores with it
through the same `score` / `predict` API as the PyTorch `Verifier`, without loading PyTorch's transformer.

The export records the SHA-256 of the weights it was made from (`onnx.json`): a verifier trained or saved
again since no longer loads its old graph; export again.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from siamdup.storage import CorruptFileError, StoredFiles, atomic_directory
from siamdup.storage.checksums import file_digest
from siamdup.tokenizer import Tokenizer
from siamdup.verify.cross_encoder import CrossEncoderConfig, PairInputs, pair_inputs
from siamdup.verify.extra import VerifyExtraMissing, import_onnxruntime
from siamdup.verify.model import Verifier, VerifierLoadError, metadata_of, read_verifier
from siamdup.verify.saved_config import VerifierConfig
from siamdup.verify.scoring import PairScorer

FLOAT_GRAPH = "model.onnx"
INT8_GRAPH = "model.int8.onnx"
EXPORT_RECORD = "onnx.json"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def graph_name(int8: bool) -> str:
    return INT8_GRAPH if int8 else FLOAT_GRAPH


def export_onnx(verifier: Verifier, directory: str | Path | None = None, int8: bool = False) -> Path:
    """Write `model.onnx` (and with `int8` also `model.int8.onnx`, its weights quantized to 8 bits) and
    `onnx.json` into the verifier's saved directory (`directory`, default where it was loaded from),
    atomically and under its writer lock. Returns the graph to run."""
    target = Path(directory) if directory is not None else verifier.path
    if target is None or not (target / "model.safetensors").is_file():
        raise ValueError("export_onnx needs a saved verifier: save it first, or pass its directory")
    ort = import_onnxruntime()
    weights = file_digest(target / "model.safetensors")
    example = pair_inputs([[1, 2, 3], [4]], [[5, 6], [7, 8, 9]], verifier.encoder_config)
    network = verifier.encoder.to("cpu").eval()
    with atomic_directory(target) as staging:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the tracer's notes on Python-level shape checks
            torch.onnx.export(
                network,
                (example.input_ids, example.attention_mask, example.token_type_ids),
                str(staging / FLOAT_GRAPH),
                dynamo=False,
                input_names=list(INPUTS),
                output_names=["logits"],
                dynamic_axes={**{name: {0: "batch", 1: "time"} for name in INPUTS}, "logits": {0: "batch"}},
                opset_version=OPSET,
            )
        if int8:
            quantize = _quantizer(ort)
            logging.disable(logging.WARNING)  # its advice to pre-process concerns convolutional networks
            try:
                quantize(str(staging / FLOAT_GRAPH), str(staging / INT8_GRAPH), weight_type=_qint8(ort))
            finally:
                logging.disable(logging.NOTSET)
        record = {
            "weights_sha256": weights,
            "opset": OPSET,
            "graphs": [FLOAT_GRAPH] + ([INT8_GRAPH] if int8 else []),
        }
        (staging / EXPORT_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return target / graph_name(int8)


def _quantizer(ort: Any) -> Any:
    try:
        from onnxruntime.quantization import quantize_dynamic
    except ImportError as e:  # it needs the onnx package as well
        raise VerifyExtraMissing(f'int8 quantization needs onnx: pip install "siamdup[verify]" ({e})') from e
    return quantize_dynamic


def _qint8(ort: Any) -> Any:
    from onnxruntime.quantization import QuantType

    return QuantType.QInt8


class OnnxVerifier(PairScorer):
    """The exported verifier on ONNX Runtime (CPU), with the PyTorch verifier's `score` API."""

    def __init__(
        self,
        session: Any,
        tokenizer: Tokenizer,
        encoder_config: CrossEncoderConfig,
        threshold: float = 0.5,
        temperature: float = 1.0,
        metadata: dict | None = None,
    ) -> None:
        super().__init__(tokenizer, encoder_config, threshold, temperature)
        self.session = session
        self.metadata = dict(metadata or {})
        self.path: Path | None = None

    def _batch_logits(self, inputs: PairInputs) -> np.ndarray:
        feed = {name: getattr(inputs, name).numpy() for name in INPUTS}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)

    @classmethod
    def load(cls, path: str | Path, int8: bool = False, threads: int | None = None) -> OnnxVerifier:
        """The verifier directory's exported graph (`int8`: the quantized one), run on `threads` CPU threads
        (default: ONNX Runtime's choice). `VerifierLoadError` when there is no export or it is stale."""
        ort = import_onnxruntime()
        directory = Path(path)

        def build(files: StoredFiles, config: VerifierConfig, tokenizer: Tokenizer) -> OnnxVerifier:
            name = graph_name(int8)
            if not files.exists(EXPORT_RECORD) or not files.exists(name):
                raise VerifierLoadError(
                    f"{directory} holds no {name}: export it first (siamdup verify export --verifier "
                    f"{directory}{' --int8' if int8 else ''})"
                )
            record = json.loads(files.read_bytes(EXPORT_RECORD))
            if record.get("weights_sha256") != file_digest(directory / "model.safetensors"):
                raise VerifierLoadError(
                    f"{directory}/{name} was exported from other weights than model.safetensors holds now: "
                    "export it again"
                )
            options = ort.SessionOptions()
            if threads:
                options.intra_op_num_threads = threads
            try:
                session = ort.InferenceSession(
                    files.read_bytes(name), sess_options=options, providers=["CPUExecutionProvider"]
                )
            except Exception as e:  # ONNX Runtime raises its own exception types for a bad graph
                raise CorruptFileError(directory / name, f"ONNX Runtime cannot load it: {e}") from None
            encoder_config = CrossEncoderConfig(**config.encoder.model_dump())
            scorer = cls(
                session, tokenizer, encoder_config, config.threshold, config.temperature, metadata_of(config)
            )
            scorer.path = directory
            return scorer

        return read_verifier(directory, build)


def graph_size(path: str | Path, int8: bool = False) -> int:
    """Bytes of a verifier directory's exported graph."""
    return os.path.getsize(Path(path) / graph_name(int8))
