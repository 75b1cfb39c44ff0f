"""The verifier's training examples: labelled duplicates and non-duplicates, each pair in both orders, none
of them a paraphrase of a dev pair, in batches of similar length.

Leaks are judged by duplicate cluster (`siamdup.data.clusters`, built over the train and dev pairs together):
a training pair leaks when its two questions fall in the same two clusters as a dev pair's, i.e. when it asks
what that dev pair asks, in the same words or through labelled duplicates of them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from siamdup.data.clusters import Clusters
from siamdup.data.readers import Pair
from siamdup.tokenizer import Tokenizer

# Batches are formed within windows of this many batches, sorted by length: little padding, random order.
SORT_WINDOW_BATCHES = 50


@dataclass
class Examples:
    """Tokenized training examples: the pair's two questions (token ids, no special tokens) and its label."""

    first: list[list[int]]
    second: list[list[int]]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_duplicates(self) -> int:
        return sum(self.labels)


def cluster_key(clusters: Clusters, pair: Pair) -> frozenset[int]:
    return frozenset((clusters.of(pair.question1), clusters.of(pair.question2)))


def without_leaks(train: Sequence[Pair], held_out: Sequence[Pair]) -> tuple[list[Pair], int]:
    """The training pairs that ask nothing a held-out pair asks (see the module docstring), and how many
    were dropped."""
    clusters = Clusters([*train, *held_out])
    held = {cluster_key(clusters, p) for p in held_out}
    kept = [p for p in train if cluster_key(clusters, p) not in held]
    return kept, len(train) - len(kept)


def both_orders(pairs: Sequence[Pair], tokenizer: Tokenizer) -> Examples:
    """Each labelled pair as (q1, q2) and (q2, q1): the verifier's answer must not depend on the order."""
    ids1 = tokenizer.tokenize([p.question1 for p in pairs])
    ids2 = tokenizer.tokenize([p.question2 for p in pairs])
    labels = [int(p.label or 0) for p in pairs]
    return Examples(first=ids1 + ids2, second=ids2 + ids1, labels=labels + labels)


def epoch_batches(examples: Examples, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The epoch's batches of example indices: shuffled, sorted by length within windows, the batches
    shuffled again. The same seed and epoch give the same batches."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(examples)))
    rng.shuffle(order)
    window = batch_size * SORT_WINDOW_BATCHES
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(
            order[start : start + window], key=lambda i: len(examples.first[i]) + len(examples.second[i])
        )
        batches += [chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size)]
    rng.shuffle(batches)
    return batches
