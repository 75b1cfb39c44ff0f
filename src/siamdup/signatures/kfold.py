"""Writer-disjoint k-fold evaluation: every writer is scored once, by a model that never saw them.

Each fold scores its writers with a model trained on the other writers; of those, every fourth (in
order) is held out of training as the fold's inner dev writers, which alone choose the epoch, the
scoring, the fusion with DTW and τ. The scored writers choose nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

INNER_DEV_EVERY = 4


@dataclass(frozen=True)
class WriterFold:
    """One fold: the writers it scores, trains on, and tunes on (three disjoint sets)."""

    scored: list[int]
    train: list[int]
    inner_dev: list[int]

    @property
    def name(self) -> str:
        return f"writers-{self.scored[0]}-{self.scored[-1]}"


def writer_folds(writers: list[int], folds: int) -> list[WriterFold]:
    """`writers` (sorted) cut into `folds` consecutive blocks, each scored once."""
    writers = sorted(writers)
    if not 2 <= folds <= len(writers) // 2:
        raise ValueError(f"{folds} folds of {len(writers)} writers: use 2 to {len(writers) // 2}")
    size, extra = divmod(len(writers), folds)
    out, start = [], 0
    for k in range(folds):
        end = start + size + (1 if k < extra else 0)
        scored = writers[start:end]
        rest = [w for w in writers if w not in scored]
        inner_dev = rest[INNER_DEV_EVERY - 1 :: INNER_DEV_EVERY]
        out.append(WriterFold(scored, [w for w in rest if w not in inner_dev], inner_dev))
        start = end
    return out
