"""Groups of duplicates in a whole corpus: nearest neighbours above τ, joined transitively.

Every question is encoded once and indexed; each one asks for its k nearest neighbours; every pair
with similarity above τ links two questions, and the connected components of those links are the
groups. Linking is transitive (a ~ b and b ~ c put a and c together), as a forum merging threads does.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from siamdup.index.duplicate_index import DuplicateIndex, Progress, encode
from siamdup.model.siamese import Siamese

SEARCH_CHUNK = 4096

Phases = Callable[[str, int], Progress]  # (description, total) -> a callback advancing that phase


@dataclass
class DedupeResult:
    """Groups of row numbers (into the input), largest first; singletons are left out."""

    groups: list[list[int]]
    n_questions: int
    n_links: int  # neighbour pairs above τ
    threshold: float

    @property
    def n_grouped(self) -> int:
        return sum(len(g) for g in self.groups)

    def write_csv(self, path: str | Path, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Write `group,size,id,text` rows, written to a temporary file first so a crash leaves no half file."""
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["group", "size", "id", "text"])
            for number, group in enumerate(self.groups, start=1):
                for row in group:
                    writer.writerow([number, len(group), ids[row], texts[row]])
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)


def dedupe(
    model: Siamese,
    texts: Sequence[str],
    *,
    threshold: float | None = None,
    k: int = 10,
    kind: str = "auto",
    phases: Phases | None = None,
) -> DedupeResult:
    """Find groups of mutual duplicates among `texts` (τ defaults to the model's)."""
    tau = model.threshold if threshold is None else float(threshold)
    n = len(texts)

    def phase(description: str) -> Progress | None:
        return phases(description, n) if phases else None

    vectors = encode(model, texts, phase("encoding"))
    index = DuplicateIndex(model, kind=kind)
    index.add([str(i) for i in range(n)], texts, vectors=vectors, progress=phase("indexing"))

    advance = phase("searching")
    sources, targets = [], []
    for start in range(0, n, SEARCH_CHUNK):
        scores, rows = index.search(vectors[start : start + SEARCH_CHUNK], k + 1)  # +1: itself
        query_rows = np.arange(start, start + len(rows))[:, None]
        linked = (scores > tau) & (rows >= 0) & (rows != query_rows)
        sources.append(np.broadcast_to(query_rows, rows.shape)[linked])
        targets.append(rows[linked])
        if advance:
            advance(len(rows))
    source, target = np.concatenate(sources), np.concatenate(targets)

    graph = coo_matrix((np.ones(len(source), dtype=np.int8), (source, target)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    order = np.argsort(component, kind="stable")
    boundaries = np.flatnonzero(np.diff(component[order])) + 1
    groups = [g.tolist() for g in np.split(order, boundaries) if len(g) > 1]
    groups.sort(key=lambda g: (-len(g), g[0]))
    # A pair found from both ends is one link.
    n_links = len(np.unique(np.minimum(source, target) * n + np.maximum(source, target)))
    return DedupeResult(groups=groups, n_questions=n, n_links=n_links, threshold=tau)
