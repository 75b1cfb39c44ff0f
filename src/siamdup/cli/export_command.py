"""`siamdup export`: a model directory with its encoder also as an ONNX graph, run by ONNX Runtime."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from siamdup.cli.common import ModelOption, app, err, fail, load_model, out
from siamdup.cli.locking import writes_to
from siamdup.cli.paths import check_output_folder, writing
from siamdup.model.siamese import ModelLoadError, Siamese, default_model_path

PARITY_QUESTIONS = ["How old are you?", "What is your age?", "Why?", "Where can I buy cheap flights? " * 20]
PARITY_TOLERANCE = 1e-4


@app.command("export")
@writes_to("onnx_dir", "--onnx", "model", create=True)
def export_command(
    onnx_dir: Annotated[
        Path,
        typer.Option(
            "--onnx",
            help="Model directory to write: the model (config, tokenizer, weights, metrics) plus encoder.onnx. "
            "May be the --model directory itself, which then gains the graph.",
        ),
    ],
    model: ModelOption = None,
    overwrite: Annotated[
        bool, typer.Option(help="Replace another model already in --onnx (else refused).")
    ] = False,
) -> None:
    """Export the model's encoder to ONNX, so that siamdup encodes with ONNX Runtime (less time per call).

    Every command, the index and the service then load the written directory like any model and encode with
    its encoder.onnx when onnxruntime is installed (--runtime or SIAMDUP_RUNTIME choose otherwise). Needs
    pip install "siamdup\\[onnx]". Covers BiLSTM models and ensembles of them.

    Example: siamdup export --model models/qqp --onnx models/qqp-onnx
    """
    from siamdup.model.onnx_export import UnsupportedExport, export_onnx
    from siamdup.model.onnx_runtime import OnnxExtraMissing

    source = model if model is not None else default_model_path()
    if _same_folder(onnx_dir, default_model_path()):
        raise fail(
            f"--onnx {onnx_dir} is the model shipped inside siamdup; write the export to another folder"
        )
    in_place = _same_folder(onnx_dir, source)
    if not in_place:
        check_output_folder(onnx_dir, "--onnx", holds="model", marker="config.json")
        if (onnx_dir / "config.json").exists() and not overwrite:
            raise fail(f"{onnx_dir} already holds a model: pass --overwrite or choose another --onnx")
    siamese: Siamese = load_model(model)
    try:
        with writing(onnx_dir):
            graph = export_onnx(siamese, onnx_dir)
    except (OnnxExtraMissing, UnsupportedExport) as e:
        raise fail(str(e)) from None
    difference = _parity(onnx_dir)
    err.print(f"checked: ONNX Runtime's vectors differ from PyTorch's by at most {difference:.1e}")
    out.print(f"exported {graph.name} ({graph.stat().st_size / 1e6:.1f} MB) → {onnx_dir}")


def _parity(directory: Path) -> float:
    """The largest difference between the exported graph's vectors and PyTorch's, on a few questions."""
    try:
        onnx = Siamese.load(directory, device="cpu", runtime="onnx")
    except ModelLoadError as e:
        raise fail(f"the export does not load: {e}") from None
    torch_model = Siamese.load(directory, device="cpu", runtime="torch")
    difference = float(np.abs(onnx.encode(PARITY_QUESTIONS) - torch_model.encode(PARITY_QUESTIONS)).max())
    if not difference <= PARITY_TOLERANCE:
        raise fail(f"{directory / 'encoder.onnx'}: its vectors differ from PyTorch's by {difference:.1e}")
    return difference


def _same_folder(a: Path, b: Path) -> bool:
    return a.is_dir() and b.is_dir() and os.path.samefile(a, b)
