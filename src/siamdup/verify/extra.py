"""The verifier's optional dependencies (`pip install "siamdup[verify]"`), imported only when it is used, with a
message naming the extra when one is missing."""

from __future__ import annotations

from types import ModuleType

INSTALL_HINT = 'pip install "siamdup[verify]"'


class VerifyExtraMissing(ImportError):
    """A package the verifier needs is not installed."""


def import_transformers() -> ModuleType:
    """Hugging Face transformers, quiet (its load reports and bars would interleave with ours)."""
    try:
        import transformers
    except ImportError as e:
        raise VerifyExtraMissing(f"the verifier needs Hugging Face transformers: {INSTALL_HINT}") from e
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return transformers


def import_onnxruntime() -> ModuleType:
    """ONNX Runtime, for the exported verifier."""
    try:
        import onnxruntime
    except ImportError as e:
        raise VerifyExtraMissing(
            f"running the verifier with ONNX Runtime needs onnxruntime: {INSTALL_HINT}"
        ) from e
    return onnxruntime


def require_verify_extra() -> None:
    """Fail at once, naming the extra, when the verifier's packages are missing."""
    import_transformers()
