"""Dynamic time warping, the classic online-signature verifier, as the baseline: the distance of two
feature sequences (n, steps, channels) along the cheapest monotonic alignment, Euclidean step cost.

Vectorised over many pairs at once: the table is filled one anti-diagonal at a time (every cell of an
anti-diagonal depends only on the two before it), so numpy does each diagonal of every pair in one step.
"""

from __future__ import annotations

import numpy as np

PAIRS_PER_CHUNK = 256  # bounds the (pairs, steps, steps) cost table's memory


def dtw_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """DTW distance of a[p] and b[p] for each pair p: (n, la, c) and (n, lb, c) -> (n,), divided by
    la + lb so that sequences of other lengths compare alike."""
    if a.ndim != 3 or b.ndim != 3 or len(a) != len(b) or a.shape[2] != b.shape[2]:
        raise ValueError(f"dtw_distances needs (n, la, c) and (n, lb, c), got {a.shape} and {b.shape}")
    out = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), PAIRS_PER_CHUNK):
        end = start + PAIRS_PER_CHUNK
        out[start:end] = _chunk(a[start:end].astype(np.float64), b[start:end].astype(np.float64))
    return out / (a.shape[1] + b.shape[1])


def _chunk(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n, la, lb = len(a), a.shape[1], b.shape[1]
    # ||a_i - b_j|| for every i, j of every pair.
    squared = (a**2).sum(-1)[:, :, None] + (b**2).sum(-1)[:, None, :] - 2 * a @ b.transpose(0, 2, 1)
    cost = np.sqrt(np.maximum(squared, 0.0))
    table = np.full((n, la + 1, lb + 1), np.inf)
    table[:, 0, 0] = 0.0
    for k in range(2, la + lb + 1):
        i = np.arange(max(1, k - lb), min(la, k - 1) + 1)
        j = k - i
        best = np.minimum(np.minimum(table[:, i - 1, j], table[:, i, j - 1]), table[:, i - 1, j - 1])
        table[:, i, j] = cost[:, i - 1, j - 1] + best
    return table[:, la, lb]
