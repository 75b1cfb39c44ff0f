"""Hard negatives mined with the model being trained: for each duplicate pair, questions of other clusters
that the model currently places close to it.

The known non-duplicates cover only some pairs (a quarter of the shared QQP train file); mining gives every
pair a negative as close as the ones the dev set asks about. Many of the nearest questions of another
cluster are duplicates nobody labelled, so a candidate is kept only if it is clearly less similar to the
anchor than the anchor's own duplicate is (`ratio`, "positive-aware" mining).
"""

from __future__ import annotations

import faiss
import numpy as np


def mine_hard_negatives(
    anchors: np.ndarray,
    positive_similarity: np.ndarray,
    anchor_clusters: np.ndarray,
    pool: np.ndarray,
    pool_clusters: np.ndarray,
    k: int = 10,
    ratio: float = 0.95,
    search_width: int = 64,
    nprobe: int = 16,
) -> list[np.ndarray]:
    """For each anchor, up to `k` indices into `pool` of its most similar pool vectors that are in another
    cluster and have similarity < ratio · positive_similarity, most similar first.

    anchors (n, d) and pool (m, d) are unit float32 vectors; positive_similarity (n,) is each anchor's
    similarity to its duplicate. Search is approximate above 10,000 pool vectors (FAISS IVF, `nprobe`
    lists of about 4·√m), and looks at the `search_width` nearest before filtering.
    """
    pool = np.ascontiguousarray(pool, dtype=np.float32)
    anchors = np.ascontiguousarray(anchors, dtype=np.float32)
    index = _index(pool, nprobe)
    width = min(search_width, len(pool))
    similarity, neighbours = index.search(anchors, width)
    keep = (
        (neighbours >= 0)
        & (pool_clusters[np.maximum(neighbours, 0)] != anchor_clusters[:, None])
        & (similarity < ratio * positive_similarity[:, None])
    )
    # Rows stay sorted by similarity; take the first k kept of each.
    return [row[mask][:k] for row, mask in zip(neighbours, keep, strict=True)]


def _index(pool: np.ndarray, nprobe: int) -> faiss.Index:
    dim = pool.shape[1]
    if len(pool) <= 10_000:
        index = faiss.IndexFlatIP(dim)
    else:
        n_lists = int(4 * np.sqrt(len(pool)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, n_lists, faiss.METRIC_INNER_PRODUCT)
        index.train(pool)
        index.nprobe = nprobe
    index.add(pool)
    return index
