"""Leakage checks: which questions of one set duplicate a question of another (e.g. test questions that
are already in the training data)."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from siamdup.index.dedupe import SEARCH_CHUNK, Search

Progress = Callable[[int], None]


@dataclass
class Leaks:
    """Pairs (row of the questions, row of the other set, similarity) above τ, each question's best first."""

    question: np.ndarray
    duplicate: np.ndarray
    similarity: np.ndarray
    n_questions: int
    n_other: int
    threshold: float

    @property
    def n_leaking(self) -> int:
        """Questions with at least one duplicate in the other set."""
        return len(np.unique(self.question))

    def write_csv(
        self,
        path: str | Path,
        ids: Sequence[str],
        texts: Sequence[str],
        other_ids: Sequence[str],
        other_texts: Sequence[str],
    ) -> None:
        """Write `id,text,duplicate_id,duplicate_text,similarity` rows, through a temporary file."""
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "text", "duplicate_id", "duplicate_text", "similarity"])
            for i, j, score in zip(
                self.question.tolist(), self.duplicate.tolist(), self.similarity.tolist(), strict=True
            ):
                writer.writerow([ids[i], texts[i], other_ids[j], other_texts[j], f"{score:.4f}"])
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)

    def summary(self, out: Path) -> str:
        return (
            f"{self.n_leaking:,} of {self.n_questions:,} questions duplicate one of the {self.n_other:,} others "
            f"({len(self.question):,} pairs above τ = {self.threshold:.3f}) → {out}"
        )


def find_against(
    search: Search,
    vectors: np.ndarray,
    n_other: int,
    tau: float,
    k: int = 10,
    advance: Progress | None = None,
) -> Leaks:
    """Each question's k nearest questions of the other set (searched by `search`) above τ."""
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for start in range(0, len(vectors), SEARCH_CHUNK):
        scores, rows = search(vectors[start : start + SEARCH_CHUNK], min(k, max(n_other, 1)))
        linked = (scores > tau) & (rows >= 0)
        query_rows = np.broadcast_to(np.arange(start, start + len(rows))[:, None], rows.shape)
        found.append((query_rows[linked], rows[linked], scores[linked]))
        if advance:
            advance(len(rows))
    question, duplicate, similarity = (np.concatenate(part) for part in zip(*found, strict=True))
    return Leaks(question, duplicate, similarity, len(vectors), n_other, tau)
