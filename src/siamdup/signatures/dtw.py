"""Dynamic time warping, the classic online-signature verifier: the distance of two feature sequences
(n, steps, channels) along the cheapest monotonic alignment, Euclidean step cost.

Vectorised over many pairs at once: the table is filled one anti-diagonal at a time (every cell of an
anti-diagonal depends only on the two before it), so numpy does each diagonal of every pair in one step.
The table is stored cells x pairs, and each diagonal's cells and their neighbours are flat indices worked
out once per shape: each step is then a few gathers of whole rows, which keeps one verification (a query
and a few references) within a few milliseconds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PAIRS_PER_CHUNK = 256  # bounds the (steps, steps, pairs) cost table's memory


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


@lru_cache(maxsize=32)
def _diagonals(la: int, lb: int) -> list[tuple[np.ndarray, ...]]:
    """Per anti-diagonal of a (la + 1, lb + 1) table: the flat indices of its cells, of their upper,
    left and upper-left neighbours, and of each cell's step cost in the (la, lb) cost table."""
    width = lb + 1
    out: list[tuple[np.ndarray, ...]] = []
    for k in range(2, la + lb + 1):
        i = np.arange(max(1, k - lb), min(la, k - 1) + 1)
        j = k - i
        out.append(
            (
                i * width + j,
                (i - 1) * width + j,
                i * width + j - 1,
                (i - 1) * width + j - 1,
                (i - 1) * lb + j - 1,
            )
        )
    return out


def _chunk(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n, la, lb = len(a), a.shape[1], b.shape[1]
    # ||a_i - b_j|| for every i, j of every pair, laid out (cells, pairs).
    squared = (a**2).sum(-1)[:, :, None] + (b**2).sum(-1)[:, None, :] - 2 * a @ b.transpose(0, 2, 1)
    cost = np.ascontiguousarray(np.sqrt(np.maximum(squared, 0.0)).reshape(n, la * lb).T)
    table = np.full(((la + 1) * (lb + 1), n), np.inf)
    table[0] = 0.0
    for cells, up, left, diagonal, step in _diagonals(la, lb):
        best = np.minimum(table[up], table[left])
        np.minimum(best, table[diagonal], out=best)
        best += cost[step]
        table[cells] = best
    return table[-1]
