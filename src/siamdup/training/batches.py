"""The batches a run trains on: the duplicate pairs as token ids with their clusters, and per step the anchors,
positives and extra negatives.

The duplicate pairs (label 1) form the batches; the sampler keeps every batch free of two pairs from one
duplicate cluster, so all off-diagonal similarities are negatives. The explicit non-duplicate pairs (label 0),
when enabled, add one known hard negative per row whose question has one.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from siamdup.data.clusters import Clusters
from siamdup.data.mining import mine_hard_negatives
from siamdup.data.readers import Pair
from siamdup.model.siamese import Siamese
from siamdup.tokenizer import Tokenizer


@dataclass
class TrainingData:
    """The duplicate pairs as token ids, their clusters, and the known non-duplicates."""

    ids1: list[list[int]]
    ids2: list[list[int]]
    clusters: list[int]
    hard_negatives: dict[int, list[tuple[list[int], int]]]  # cluster -> [(question ids, its cluster)]
    non_duplicates: list[tuple[list[int], list[int]]]  # the label-0 pairs, as token ids
    # Every distinct question of the file, for mining and cluster positives: its token ids and cluster,
    # where each duplicate pair's two questions are in this list, and each cluster's questions.
    questions: list[list[int]]
    question_clusters: np.ndarray
    pair_questions: np.ndarray  # (pairs, 2)
    cluster_members: dict[int, list[int]]  # cluster -> its questions (indices into `questions`)


@dataclass
class Batch:
    anchors: list[list[int]]
    positives: list[list[int]]
    negatives: list[list[int]]  # extra columns of the similarity matrix: negatives for every row
    negative_rows: list[int]  # the row whose anchor each negative was drawn for


def prepare(pairs: list[Pair], tokenizer: Tokenizer) -> TrainingData:
    clusters = Clusters(pairs)
    dups = [p for p in pairs if p.label == 1]
    if not dups:
        raise ValueError("the training data has no duplicate pair (label 1): nothing to learn from")
    non_dups = [p for p in pairs if p.label == 0]
    ids1, ids2 = (
        tokenizer.tokenize([p.question1 for p in dups]),
        tokenizer.tokenize([p.question2 for p in dups]),
    )
    neg_ids1 = tokenizer.tokenize([p.question1 for p in non_dups])
    neg_ids2 = tokenizer.tokenize([p.question2 for p in non_dups])
    negatives: dict[int, list[tuple[list[int], int]]] = defaultdict(list)
    non_duplicates = []
    for p, i1, i2 in zip(non_dups, neg_ids1, neg_ids2, strict=True):
        c1, c2 = clusters.of(p.question1), clusters.of(p.question2)
        if c1 != c2:  # a pair labelled 0 whose questions are linked by duplicates elsewhere is ambiguous
            negatives[c1].append((i2, c2))
            negatives[c2].append((i1, c1))
            non_duplicates.append((i1, i2))
    position: dict[tuple[int, ...], int] = {}
    questions: list[list[int]] = []
    question_clusters: list[int] = []
    for text, ids in zip(
        [q for p in dups + non_dups for q in (p.question1, p.question2)],
        [x for a, b in zip(ids1 + neg_ids1, ids2 + neg_ids2, strict=True) for x in (a, b)],
        strict=True,
    ):
        if tuple(ids) not in position:
            position[tuple(ids)] = len(questions)
            questions.append(ids)
            question_clusters.append(clusters.of(text))
    members: dict[int, list[int]] = defaultdict(list)
    for j, cluster in enumerate(question_clusters):
        members[cluster].append(j)
    return TrainingData(
        ids1=ids1,
        ids2=ids2,
        clusters=[clusters.pair_cluster(p) for p in dups],
        hard_negatives=dict(negatives),
        non_duplicates=non_duplicates,
        questions=questions,
        question_clusters=np.array(question_clusters),
        cluster_members=dict(members),
        pair_questions=np.array(
            [[position[tuple(a)], position[tuple(b)]] for a, b in zip(ids1, ids2, strict=True)]
        ),
    )


def mine(model: Siamese, data: TrainingData) -> list[np.ndarray]:
    """For each duplicate pair, questions of other clusters the model now places close to its first one."""
    vectors = model.encode_tokenized(data.questions, batch_size=1024)
    first, second = vectors[data.pair_questions[:, 0]], vectors[data.pair_questions[:, 1]]
    clusters = data.question_clusters[data.pair_questions[:, 0]]
    return mine_hard_negatives(first, (first * second).sum(1), clusters, vectors, data.question_clusters)


def make_batch(
    data: TrainingData,
    rows: list[int],
    rng: random.Random,
    hard_negatives: bool,
    mined: list[np.ndarray] | None = None,
    cluster_positives: float = 0.0,
) -> Batch:
    """Anchors, positives (each pair in a random direction) and up to one extra negative per row: a known
    non-duplicate of its cluster or a mined one, half of the time each when both exist. With probability
    `cluster_positives` the positive is another question of the anchor's cluster (duplicates by transitivity)."""
    anchors, positives, negatives, negative_rows = [], [], [], []
    batch_clusters = {data.clusters[i] for i in rows}
    for i in rows:
        a, p = (data.ids1[i], data.ids2[i]) if rng.random() < 0.5 else (data.ids2[i], data.ids1[i])
        if cluster_positives and rng.random() < cluster_positives:
            others = data.cluster_members[data.clusters[i]]
            p = data.questions[rng.choice(others)]
            while p == a and len(others) > 1:
                p = data.questions[rng.choice(others)]
        anchors.append(a)
        positives.append(p)
        known = data.hard_negatives.get(data.clusters[i], []) if hard_negatives else []
        found = mined[i] if mined is not None else ()
        if known and (not len(found) or rng.random() < 0.5):
            ids, cluster = rng.choice(known)
        elif len(found):
            j = int(found[rng.randrange(len(found))])
            ids, cluster = data.questions[j], int(data.question_clusters[j])
        else:
            continue
        if cluster not in batch_clusters:  # it must be a negative for every row, not just row i
            negatives.append(ids)
            negative_rows.append(len(anchors) - 1)
    return Batch(anchors, positives, negatives, negative_rows)


def batch_share(batch: Batch, rank: int, world_size: int) -> Batch:
    """Rank `rank`'s share of a global batch: its slice of the rows, with the extra negatives drawn for them.

    The global batch is cluster-disjoint and its extra negatives are negatives for all of its rows, so each
    share's vectors stay true negatives for every other share's rows."""
    b = len(batch.anchors) // world_size
    first, end = rank * b, (rank + 1) * b
    kept = [j for j, row in enumerate(batch.negative_rows) if first <= row < end]
    return Batch(
        anchors=batch.anchors[first:end],
        positives=batch.positives[first:end],
        negatives=[batch.negatives[j] for j in kept],
        negative_rows=[batch.negative_rows[j] - first for j in kept],
    )
