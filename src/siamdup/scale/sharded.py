"""A sharded index: vectors split by k-means cell into shards that could live on different machines. A
query visits the shards most likely to hold its neighbours first and stops as soon as no shard left can
hold anything better than its k-th best so far (the bound of `partition`), so its top k equal those of one
unsharded exhaustive search."""

from __future__ import annotations

import faiss
import numpy as np

from siamdup.scale.partition import BOUND_MARGIN, Partitioning
from siamdup.scale.store import EmbeddingStore


class ShardedIndex:
    """One exact FAISS index per cell of a partitioning; `search` merges their top k."""

    def __init__(self, parts: Partitioning, store: EmbeddingStore) -> None:
        self.parts = parts
        self.rows = parts.members()
        self.shards = []
        for rows in self.rows:
            shard = faiss.IndexFlatIP(store.dim)
            if len(rows):
                shard.add(store.gather(rows))
            self.shards.append(shard)
        self.visits = 0  # shard searches made, to see how many shards a query needs

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, rows), each (n, k), best first; row -1 where fewer than k vectors exist."""
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        angle = np.arccos(np.clip(queries @ self.parts.centroids.T, -1.0, 1.0))
        bound = np.cos(np.maximum(0.0, angle - self.parts.radius[None, :]))
        order = np.argsort(-bound, axis=1, kind="stable")
        best_score = np.full((len(queries), k), -np.inf, dtype=np.float32)
        best_row = np.full((len(queries), k), -1, dtype=np.int64)
        for rank in range(self.parts.cells):
            cell_at_rank = order[:, rank]
            still = bound[np.arange(len(queries)), cell_at_rank] + BOUND_MARGIN >= best_score[:, -1]
            for cell in np.unique(cell_at_rank[still]).tolist():
                asking = np.flatnonzero(still & (cell_at_rank == cell))
                if not len(self.rows[cell]):
                    continue
                self.visits += len(asking)
                score, found = self.shards[cell].search(queries[asking], min(k, len(self.rows[cell])))
                found_rows = np.where(found >= 0, self.rows[cell][np.maximum(found, 0)], -1)
                both_scores = np.hstack([best_score[asking], score])
                both_rows = np.hstack([best_row[asking], found_rows])
                keep = np.lexsort((both_rows, -both_scores), axis=1)[:, :k]
                best_score[asking] = np.take_along_axis(both_scores, keep, 1)
                best_row[asking] = np.take_along_axis(both_rows, keep, 1)
            if not still.any():
                break
        return best_score, best_row
