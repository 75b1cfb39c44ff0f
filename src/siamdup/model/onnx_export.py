"""`export_onnx`: a model directory whose encoder also comes as an ONNX graph (`encoder.onnx`).

The graph takes token ids (batch, time; right-padded) and their lengths (batch,), both int64, with dynamic
batch and time axes, and returns the unit vectors (batch, dim) as float32: the same as the PyTorch encoder,
minus its length buckets (the caller sorts questions by length, so a batch carries little padding). The
directory is a whole model (config, tokenizer, weights, the source's metrics and model card) saved
atomically with every file's checksum, so it loads like any model; `onnx.json` records the SHA-256 of the
weights the graph was made from, so a graph left behind by a later save of other weights is not used.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from siamdup.model.encoder import LSTMEncoder
from siamdup.model.ensemble import EnsembleEncoder
from siamdup.model.onnx_runtime import EXPORT_RECORD, GRAPH, INPUTS, OPSET, OUTPUT, require_export_packages
from siamdup.storage import CHECKSUMS, StoredFiles, atomic_directory
from siamdup.storage.checksums import file_digest
from siamdup.storage.stored_model import WEIGHTS

if TYPE_CHECKING:
    from siamdup.model.siamese import Encoder, Siamese


MODEL_CARD = "MODEL_CARD.md"  # the shipped model's, which its checksums do not list


class UnsupportedExport(ValueError):
    """An encoder the ONNX export does not cover."""


class LSTMGraph(nn.Module):
    """The LSTM encoder over the whole padded batch in one piece: what `torch.onnx.export` traces."""

    def __init__(self, encoder: LSTMEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return self.encoder._encode(self.encoder.embedding(ids), lengths)


class EnsembleGraph(nn.Module):
    """Each member's graph, its vector scaled by the square root of its weight, side by side."""

    def __init__(self, encoder: EnsembleEncoder) -> None:
        super().__init__()
        self.members = nn.ModuleList([encoder_graph(m) for m in encoder.encoders()])
        self.scales = [math.sqrt(w) for w in encoder.config.weights]

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.cat([s * m(ids, lengths) for m, s in zip(self.members, self.scales, strict=True)], -1)


def encoder_graph(encoder: Encoder) -> nn.Module:
    """The exportable form of `encoder`; `UnsupportedExport` for a transformer encoder."""
    if isinstance(encoder, LSTMEncoder):
        return LSTMGraph(encoder)
    if isinstance(encoder, EnsembleEncoder):
        return EnsembleGraph(encoder)
    raise UnsupportedExport(
        f"the ONNX export covers BiLSTM encoders (and ensembles of them), not the {encoder.architecture} "
        "encoder: run this model on PyTorch"
    )


def export_onnx(model: Siamese, directory: str | Path) -> Path:
    """Save `model` into `directory` as a whole model plus `encoder.onnx` and `onnx.json` (atomically,
    under the directory's writer lock). Files beside the source model's own (metrics, model card) are
    copied when `model` was loaded from a directory. Needs ONNX Runtime's extra; returns the graph's path."""
    from siamdup.model.siamese import Siamese

    require_export_packages()  # fail before any work when the extra is missing
    folded = Siamese(model.tokenizer, model.encoder.folded(), model.threshold, model.metadata)
    graph = encoder_graph(folded.encoder).to("cpu").eval()
    target = Path(directory)
    extras = _extra_files(model.path) if model.path is not None else {}
    with atomic_directory(target) as staging:
        folded.save_files(staging)
        for name, data in extras.items():
            (staging / name).write_bytes(data)
        _trace(graph, staging / GRAPH)
        record = {"graph": GRAPH, "weights_sha256": file_digest(staging / WEIGHTS), "opset": OPSET}
        (staging / EXPORT_RECORD).write_text(json.dumps(record, indent=2) + "\n")
    return target / GRAPH


def _trace(graph: nn.Module, path: Path) -> None:
    example_ids = torch.tensor([[5, 6, 7], [8, 0, 0]])
    example_lengths = torch.tensor([3, 1])
    with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on Python-level shape checks
        torch.onnx.export(
            graph,
            (example_ids, example_lengths),
            str(path),
            dynamo=False,
            input_names=list(INPUTS),
            output_names=[OUTPUT],
            dynamic_axes={INPUTS[0]: {0: "batch", 1: "time"}, INPUTS[1]: {0: "batch"}, OUTPUT: {0: "batch"}},
            opset_version=OPSET,
        )


def _extra_files(source: Path) -> dict[str, bytes]:
    """The source directory's checked files that a model save does not write (metrics, model card),
    each verified against the source's checksums as it is read."""
    written = {"config.json", WEIGHTS, "tokenizer.json", GRAPH, EXPORT_RECORD, CHECKSUMS}
    files = StoredFiles(source)
    names = sorted({*(files.checksums or {}), MODEL_CARD})
    return {name: files.read_bytes(name) for name in names if name not in written and files.exists(name)}
