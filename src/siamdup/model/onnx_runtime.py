"""The encoder on ONNX Runtime: `OnnxEncoder` runs a model directory's `encoder.onnx` (made by
`siamdup export`), and `open_graph` decides at load time whether a model uses it.

The runtime is chosen per load: "torch" always runs PyTorch; "onnx" runs the exported graph or refuses
to load; "auto" (the default) runs the graph when the directory holds one made from its current weights,
ONNX Runtime is installed and the model runs on the CPU, else PyTorch. `SIAMDUP_RUNTIME` sets the choice
for every load that names none (the CLI's `--runtime` sets it for the command).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch

from siamdup.model.encoder import length_buckets
from siamdup.storage import CorruptFileError, StoredFiles
from siamdup.storage.checksums import file_digest
from siamdup.storage.stored_model import WEIGHTS

GRAPH = "encoder.onnx"
EXPORT_RECORD = "onnx.json"
INPUTS = ("ids", "lengths")
OUTPUT = "vectors"
OPSET = 17
RUNTIMES = ("auto", "torch", "onnx")
RUNTIME_ENV = "SIAMDUP_RUNTIME"
INSTALL_HINT = 'pip install "siamdup[onnx]"'
Padder = Callable[[Sequence[Sequence[int]]], tuple[torch.Tensor, torch.Tensor]]


class OnnxExtraMissing(ImportError):
    """ONNX Runtime (the `onnx` extra) is not installed."""


class RuntimeUnavailable(ValueError):
    """runtime="onnx" was asked for a model that cannot run on ONNX Runtime (the message says why)."""


def import_onnxruntime() -> ModuleType:
    """ONNX Runtime, or `OnnxExtraMissing` naming the extra that brings it."""
    try:
        import onnxruntime
    except ImportError as e:
        raise OnnxExtraMissing(
            f"running the encoder on ONNX Runtime needs onnxruntime: {INSTALL_HINT}"
        ) from e
    return onnxruntime


def require_export_packages() -> None:
    """Fail at once, naming the extra, unless both packages an export uses are installed."""
    import_onnxruntime()  # the export is checked by running it
    try:
        import onnx  # noqa: F401  (torch.onnx.export writes the graph with it)
    except ImportError as e:
        raise OnnxExtraMissing(f"exporting the encoder to ONNX needs the onnx package: {INSTALL_HINT}") from e


def resolve_runtime(runtime: str | None) -> str:
    """The runtime asked for: `runtime`, else $SIAMDUP_RUNTIME, else "auto"; a clear error for another name."""
    chosen = runtime if runtime is not None else os.environ.get(RUNTIME_ENV) or "auto"
    if chosen not in RUNTIMES:
        source = "runtime" if runtime is not None else f"${RUNTIME_ENV}"
        raise ValueError(f"{source} must be one of {', '.join(RUNTIMES)}, not {chosen!r}")
    return chosen


class OnnxEncoder:
    """`encoder.onnx` in an ONNX Runtime session (CPU): right-padded ids and lengths -> unit vectors."""

    def __init__(self, session: Any, pad: Padder) -> None:
        self.session = session
        self.pad = pad  # the tokenizer's: token id lists -> right-padded (batch, time) ids and lengths

    def __call__(self, ids: Sequence[Sequence[int]]) -> np.ndarray:
        """Unit vectors of the questions, in order. As in the PyTorch encoder, the rows are cut into
        buckets of similar length, each padded only to its own longest question."""
        pieces, order = [], []
        for rows in length_buckets(torch.tensor([len(x) for x in ids])):
            batch, lengths = self.pad([ids[i] for i in rows.tolist()])
            feed = {INPUTS[0]: batch.numpy(), INPUTS[1]: lengths.numpy()}
            pieces.append(np.asarray(self.session.run(None, feed)[0], dtype=np.float32))
            order.append(rows.numpy())
        out = np.empty((len(ids), pieces[0].shape[1]), dtype=np.float32)
        out[np.concatenate(order)] = np.concatenate(pieces)
        return out


def open_graph(
    files: StoredFiles, runtime: str, pad: Padder, on_cpu: bool, threads: int | None = None
) -> OnnxEncoder | None:
    """The directory's graph in a session when `runtime` ("auto" or "onnx") calls for it, else None.

    With "onnx", every reason it cannot run raises `RuntimeUnavailable` (or `OnnxExtraMissing`); with
    "auto" they fall back to PyTorch. A damaged `encoder.onnx` is refused either way (checksums).
    """
    directory = files.directory
    if runtime == "torch":
        return None
    problem = None
    if not files.exists(GRAPH) or not files.exists(EXPORT_RECORD):
        problem = (
            f"{directory} holds no {GRAPH}: export it first (siamdup export --model {directory} --onnx DIR)"
        )
    elif not on_cpu:
        problem = "ONNX Runtime runs the encoder on the CPU only: load the model with device='cpu'"
    elif _record_weights(files) != _weights_digest(files):
        problem = (
            f"{directory / GRAPH} was exported from other weights than {WEIGHTS} holds now: export it again"
        )
    if problem is not None:
        if runtime == "onnx":
            raise RuntimeUnavailable(problem)
        return None
    try:
        ort = import_onnxruntime()
    except OnnxExtraMissing:
        if runtime == "onnx":
            raise
        return None
    graph = files.read_bytes(GRAPH)  # checked against the save's checksum
    return OnnxEncoder(_session(ort, graph, directory / GRAPH, threads), pad)


def _session(ort: ModuleType, graph: bytes, path: Path, threads: int | None) -> Any:
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(graph, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as e:  # ONNX Runtime raises its own exception types for a bad graph
        raise CorruptFileError(path, f"ONNX Runtime cannot load it: {e}") from None


def _record_weights(files: StoredFiles) -> str | None:
    try:
        record = json.loads(files.read_bytes(EXPORT_RECORD))
    except ValueError as e:
        raise CorruptFileError(files.directory / EXPORT_RECORD, f"not valid JSON: {e}") from None
    digest = record.get("weights_sha256") if isinstance(record, dict) else None
    if not isinstance(digest, str):
        raise CorruptFileError(files.directory / EXPORT_RECORD, "no weights_sha256 in it")
    return digest


def _weights_digest(files: StoredFiles) -> str:
    """The weights' SHA-256: as the save recorded it (the load verified the file against it)."""
    recorded = (files.checksums or {}).get(WEIGHTS)
    return recorded if recorded is not None else file_digest(files.directory / WEIGHTS)
