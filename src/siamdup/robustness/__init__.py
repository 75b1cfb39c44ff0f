"""Robustness checks beyond dev accuracy: a contrast set of one-word edits of real questions
(`contrast`, `rules`), an out-of-domain proxy from sentences that are not questions (`proxy`), and the
runner that scores several models on them and on retrieval side by side (`checks`)."""

from siamdup.robustness.checks import contrast_rows, proxy_rows, retrieval_rows
from siamdup.robustness.contrast import ContrastPair, build_contrast_set
from siamdup.robustness.proxy import ProxyPair, build_proxy_pairs

__all__ = [
    "ContrastPair",
    "ProxyPair",
    "build_contrast_set",
    "build_proxy_pairs",
    "contrast_rows",
    "proxy_rows",
    "retrieval_rows",
]
