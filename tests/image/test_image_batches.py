"""Class-disjoint batches: every off-diagonal cell of a batch's similarity matrix is a true negative."""

from __future__ import annotations

import numpy as np
import pytest

from siamdup.image.batches import batches_per_epoch, class_disjoint_batches, epoch_pairs


def test_each_class_drawings_paired_once():
    pairs = epoch_pairs(n_classes=7, n_drawings=6, seed=3)
    assert len(pairs) == 7 * 3
    for c in range(7):
        drawings = pairs[pairs[:, 0] == c][:, 1:].ravel()
        assert sorted(drawings) == list(range(6))


def test_batches_hold_distinct_classes_and_distinct_drawings():
    batches = list(class_disjoint_batches(30, 20, classes_per_batch=8, seed=0, epoch=1))
    assert len(batches) == batches_per_epoch(30, 20, 8)
    for rows in batches:
        assert rows.shape == (8, 3)
        assert len(set(rows[:, 0].tolist())) == 8  # no class twice: all off-diagonal cells are negatives
        assert (rows[:, 1] != rows[:, 2]).all()
    seen = np.concatenate(batches)
    assert len({tuple(r) for r in seen.tolist()}) == len(seen)  # no pair dealt twice


def test_batches_are_reproducible_and_change_by_epoch():
    first = [b.tolist() for b in class_disjoint_batches(30, 20, 8, seed=0, epoch=1)]
    again = [b.tolist() for b in class_disjoint_batches(30, 20, 8, seed=0, epoch=1)]
    other = [b.tolist() for b in class_disjoint_batches(30, 20, 8, seed=0, epoch=2)]
    assert first == again and first != other


def test_impossible_batches_are_refused():
    with pytest.raises(ValueError, match="needs that many classes"):
        next(class_disjoint_batches(5, 20, 8, seed=0, epoch=1))
    with pytest.raises(ValueError, match="two drawings"):
        next(class_disjoint_batches(10, 1, 4, seed=0, epoch=1))
