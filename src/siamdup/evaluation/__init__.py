"""Robustness checks beyond dev accuracy: a contrast set of one-word edits of real questions
(`contrast`, `rules`), an out-of-domain proxy from sentences that are not questions (`proxy`), and the
runner that scores several models on them and on retrieval side by side (`robustness`)."""

from siamdup.evaluation.contrast import ContrastPair, build_contrast_set
from siamdup.evaluation.proxy import ProxyPair, build_proxy_pairs
from siamdup.evaluation.robustness import contrast_rows, proxy_rows, retrieval_rows

__all__ = [
    "ContrastPair",
    "ProxyPair",
    "build_contrast_set",
    "build_proxy_pairs",
    "contrast_rows",
    "proxy_rows",
    "retrieval_rows",
]
