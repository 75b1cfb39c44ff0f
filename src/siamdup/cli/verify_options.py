"""The options and loading every `--verify` command shares, and `siamdup verify export`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from siamdup.cli.common import app, fail, out
from siamdup.cli.locking import writes_to

VerifyOption = Annotated[
    bool,
    typer.Option(
        "--verify",
        help="Re-score with the verifier, a cross-encoder reading both questions together, and let it decide: "
        'slower, more accurate (needs --verifier; pip install "siamdup\\[verify]").',
    ),
]
VerifierOption = Annotated[
    Path | None,
    typer.Option(
        "--verifier",
        help="Verifier directory (from siamdup train --recipe verifier); runs on ONNX Runtime when it holds "
        "an export (siamdup verify export), else on PyTorch.",
    ),
]

VerifierRuntimeOption = Annotated[
    str,
    typer.Option(
        "--verifier-runtime",
        help="What runs the verifier: auto (ONNX Runtime when the directory holds an export and onnxruntime "
        "is installed, else PyTorch), torch, onnx, or onnx-int8 (the 8-bit export).",
    ),
]

verify_app = typer.Typer(help="The verifier: a cross-encoder that checks the Siamese model's candidates.")
app.add_typer(verify_app, name="verify")


def load_verifier_or_fail(path: Path | None, runtime: str = "auto", threads: int | None = None):
    """The verifier in `path`, or a clear exit: no directory given, a damaged one, the extra missing, an
    unknown runtime. `threads` bounds ONNX Runtime's threads."""
    from siamdup.verify import VerifyExtraMissing, load_verifier

    if path is None:
        raise fail("--verify needs --verifier DIR: train one with siamdup train --recipe verifier --out DIR")
    try:
        return load_verifier(path, runtime, threads)
    except (ValueError, VerifyExtraMissing) as e:  # VerifierLoadError, or an unknown runtime
        raise fail(str(e)) from None


@verify_app.command("export")
@writes_to("verifier", "--verifier", "verifier")
def export_command(
    verifier: Annotated[Path, typer.Option("--verifier", help="Verifier directory to export into.")],
    int8: Annotated[
        bool, typer.Option("--int8", help="Also write model.int8.onnx, its weights quantized to 8 bits.")
    ] = False,
) -> None:
    """Export a verifier to ONNX (model.onnx in its directory) so that --verify runs on ONNX Runtime.

    Example: siamdup verify export --verifier models/verifier --int8
    """
    from siamdup.verify import VerifyExtraMissing
    from siamdup.verify.onnx import export_onnx, graph_size

    model = load_verifier_or_fail(verifier, "torch")
    try:
        export_onnx(model, verifier, int8=int8)
    except VerifyExtraMissing as e:
        raise fail(str(e)) from None
    sizes = [f"model.onnx {graph_size(verifier) / 1e6:.1f} MB"]
    if int8:
        sizes.append(f"model.int8.onnx {graph_size(verifier, int8=True) / 1e6:.1f} MB")
    out.print(f"exported {', '.join(sizes)} → {verifier}")
