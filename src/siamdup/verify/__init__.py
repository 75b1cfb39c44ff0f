"""The verifier: a cross-encoder that reads both questions together and checks the candidates a Siamese
index found (`pip install "siamdup[verify]"`).

`Verifier.load(dir)` / `verifier.score(q1s, q2s)` (calibrated P(duplicate)); `load_verifier(dir, runtime)`
for the PyTorch or ONNX Runtime scorer; `export_onnx` to make the ONNX graph; `siamdup train --recipe
verifier` to train one. Importing this package needs only the core install; using a verifier needs the extra.
"""

from siamdup.verify.extra import INSTALL_HINT, VerifyExtraMissing
from siamdup.verify.loading import RUNTIMES, load_verifier
from siamdup.verify.model import Verifier, VerifierLoadError
from siamdup.verify.onnx import OnnxVerifier, export_onnx
from siamdup.verify.scoring import MAX_PAIRS_PER_CALL, PairScorer, VerifyLimitError

__all__ = [
    "INSTALL_HINT",
    "MAX_PAIRS_PER_CALL",
    "RUNTIMES",
    "OnnxVerifier",
    "PairScorer",
    "Verifier",
    "VerifierLoadError",
    "VerifyExtraMissing",
    "VerifyLimitError",
    "export_onnx",
    "load_verifier",
]
