"""Load a verifier with the runtime asked for: PyTorch, or its ONNX export on ONNX Runtime."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from siamdup.verify.model import NO_DEFAULT, Verifier, VerifierLoadError
from siamdup.verify.onnx import FLOAT_GRAPH, OnnxVerifier
from siamdup.verify.scoring import PairScorer

RUNTIMES = ("auto", "torch", "onnx", "onnx-int8")


def installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError, AttributeError):  # a module set to None in sys.modules, as tests do
        return False


def load_verifier(path: str | Path | None, runtime: str = "auto", threads: int | None = None) -> PairScorer:
    """The verifier in directory `path`: on PyTorch ("torch"), on ONNX Runtime from its float or int8 export
    ("onnx", "onnx-int8"), or "auto": the float export where there is one and onnxruntime is installed, else
    PyTorch. `threads` bounds ONNX Runtime's CPU threads."""
    if runtime not in RUNTIMES:
        raise ValueError(f"unknown verifier runtime {runtime!r}: use {', '.join(RUNTIMES)}")
    if path is None:
        raise VerifierLoadError(NO_DEFAULT)
    directory = Path(path)
    if runtime == "auto":
        exported = (directory / FLOAT_GRAPH).is_file() and installed("onnxruntime")
        runtime = "onnx" if exported else "torch"
    if runtime == "torch":
        return Verifier.load(directory)
    return OnnxVerifier.load(directory, int8=runtime == "onnx-int8", threads=threads)
