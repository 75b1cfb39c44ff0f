"""Groups of duplicates in a whole corpus: each group is a central question and its duplicates.

Every question is encoded once and indexed, and asks for its k nearest neighbours; a neighbour above τ is
a duplicate. Questions with the most duplicates become group centres first; a centre takes all of its
duplicates not yet in a group (the community detection of sentence-transformers' fast clustering). Every
member of a group is thus a duplicate of its centre.

Joining duplicates transitively instead (a ~ b and b ~ c put a and c together) was measured and dropped:
on 500,000 real questions at the shipped model's τ, the chains merge 389,000 of them into one group.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from siamdup.index.duplicate_index import DuplicateIndex, Progress, encode
from siamdup.model.siamese import Siamese

if TYPE_CHECKING:
    from siamdup.verify.scoring import PairScorer

SEARCH_CHUNK = 4096

Phases = Callable[[str, int], Progress]  # (description, total) -> a callback advancing that phase


@dataclass
class DedupeResult:
    """Groups of row numbers (into the input), centre first; questions without a duplicate are left out."""

    groups: list[list[int]]
    similarities: list[list[float]]  # of each member to its group's centre (1.0 for the centre)
    n_questions: int
    n_links: int  # neighbour pairs above τ
    threshold: float

    @property
    def n_grouped(self) -> int:
        return sum(len(g) for g in self.groups)

    def write_csv(self, path: str | Path, ids: Sequence[str], texts: Sequence[str]) -> None:
        """Write `group,size,id,text,similarity` rows (similarity to the group's centre, its first row).

        Written to a temporary file first, so a crash leaves no half-written CSV.
        """
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["group", "size", "id", "text", "similarity"])
            for number, (group, scores) in enumerate(
                zip(self.groups, self.similarities, strict=True), start=1
            ):
                for row, score in zip(group, scores, strict=True):
                    writer.writerow([number, len(group), ids[row], texts[row], f"{score:.4f}"])
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
    verifier: PairScorer | None = None,
) -> DedupeResult:
    """Groups of duplicates among `texts`: centres and their neighbours above τ (default: the model's);
    with `verifier`, only the links it confirms (`siamdup.verify.edges`)."""
    tau = model.threshold if threshold is None else float(threshold)
    n = len(texts)

    def phase(description: str) -> Progress | None:
        return phases(description, n) if phases else None

    vectors = encode(model, texts, phase("encoding"))
    index = DuplicateIndex(model, kind=kind)
    index.add([str(i) for i in range(n)], texts, vectors=vectors, progress=phase("indexing"))

    source, target, similarity = neighbour_links(index.search, vectors, k, tau, phase("searching"))
    if verifier is not None:
        from siamdup.verify.edges import confirmed_links

        keep = confirmed_links(verifier, texts, source, target, phases)
        source, target, similarity = source[keep], target[keep], similarity[keep]
    return group_links(n, source, target, similarity, tau)


Search = Callable[[np.ndarray, int], tuple[np.ndarray, np.ndarray]]  # (vectors, k) -> (scores, rows)


def neighbour_links(
    search: Search,
    vectors: np.ndarray,
    k: int,
    tau: float,
    advance: Progress | None = None,
    first_row: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, target, similarity) of every question's k nearest others above τ.

    `vectors` are rows `first_row`.. of the corpus `search` looks in; each finds k + 1 neighbours, since
    the nearest is usually itself.
    """
    sources, targets, found = [], [], []
    for start in range(0, len(vectors), SEARCH_CHUNK):
        scores, rows = search(vectors[start : start + SEARCH_CHUNK], k + 1)
        query_rows = np.arange(first_row + start, first_row + start + len(rows))[:, None]
        linked = (scores > tau) & (rows >= 0) & (rows != query_rows)
        sources.append(np.broadcast_to(query_rows, rows.shape)[linked])
        targets.append(rows[linked])
        found.append(scores[linked])
        if advance:
            advance(len(rows))
    if not sources:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float32)
    return tuple(np.concatenate(x) for x in (sources, targets, found))  # type: ignore[return-value]


def group_links(
    n: int, source: np.ndarray, target: np.ndarray, similarity: np.ndarray, tau: float
) -> DedupeResult:
    """Form the groups of `n` questions from their links (each question's duplicates, found by any search).

    Every way of finding the links (exact, compressed, partitioned, on Ray) forms its groups here.
    """
    source, target = source.astype(np.int64, copy=False), target.astype(np.int64, copy=False)
    n_links = len(np.unique(np.minimum(source, target) * n + np.maximum(source, target)))
    groups, similarities = _centre_groups(n, source, target, similarity)
    return DedupeResult(groups, similarities, n_questions=n, n_links=n_links, threshold=tau)


def _centre_groups(
    n: int, source: np.ndarray, target: np.ndarray, scores: np.ndarray
) -> tuple[list[list[int]], list[list[float]]]:
    """Greedy groups: the question with the most free duplicates is the next centre, and takes them all."""
    degree = np.bincount(source, minlength=n)
    order = np.lexsort((-scores, source))  # by question, then its duplicates most similar first
    source, target, scores = source[order], target[order], scores[order]
    starts = np.searchsorted(source, np.arange(n + 1))
    grouped = np.zeros(n, dtype=bool)
    groups: list[list[int]] = []
    similarities: list[list[float]] = []
    for centre in np.argsort(-degree, kind="stable").tolist():
        if degree[centre] == 0:
            break
        if grouped[centre]:
            continue
        members = [
            (j, s)
            for j, s in zip(
                target[starts[centre] : starts[centre + 1]].tolist(),
                scores[starts[centre] : starts[centre + 1]].tolist(),
                strict=True,
            )
            if not grouped[j]
        ]
        if not members:
            continue
        group = [centre] + [j for j, _ in members]
        grouped[group] = True
        groups.append(group)
        similarities.append([1.0] + [s for _, s in members])
    largest_first = sorted(range(len(groups)), key=lambda g: -len(groups[g]))
    return [groups[g] for g in largest_first], [similarities[g] for g in largest_first]
