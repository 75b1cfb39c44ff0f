import random

import numpy as np

from siamdup.data.readers import Pair
from siamdup.tokenizer import Tokenizer
from siamdup.training.batches import TrainingData, make_batch, prepare


def prepared(pairs: list[Pair]) -> TrainingData:
    """`prepare` with a word tokenizer built from the pairs themselves."""
    tokenizer = Tokenizer.train([q for p in pairs for q in (p.question1, p.question2)], vocab_size=100)
    return prepare(pairs, tokenizer)


def test_prepare_lists_every_question_once_with_its_cluster() -> None:
    data = prepared(
        [
            Pair("how do i learn python", "best way to learn python", 1),
            Pair("best way to learn python", "how can i learn python fast", 1),
            Pair("how do i learn python", "how do i learn chess", 0),
            Pair("is chess hard", "how hard is chess", 1),
        ]
    )
    assert len(data.questions) == 6  # "how do i learn python" and "best way..." appear twice, listed once
    for row, (a, b) in enumerate(data.pair_questions):
        assert data.questions[a] == data.ids1[row] and data.questions[b] == data.ids2[row]
        assert data.question_clusters[a] == data.question_clusters[b] == data.clusters[row]
    assert len(set(data.question_clusters.tolist())) == 3  # python, chess-is-hard, learn-chess alone


def test_mined_negatives_fill_rows_but_never_hit_a_cluster_of_the_batch() -> None:
    # Pairs 0-3 in clusters 0-3; pool questions 0-7 are the pairs', 8-9 belong to clusters 8 and 9.
    questions = [[q] for q in range(10)]
    data = TrainingData(
        ids1=[[0], [2], [4], [6]],
        ids2=[[1], [3], [5], [7]],
        clusters=[0, 1, 2, 3],
        hard_negatives={},
        non_duplicates=[],
        questions=questions,
        question_clusters=np.array([0, 0, 1, 1, 2, 2, 3, 3, 8, 9]),
        pair_questions=np.array([[0, 1], [2, 3], [4, 5], [6, 7]]),
        cluster_members={0: [0, 1], 1: [2, 3], 2: [4, 5], 3: [6, 7], 8: [8], 9: [9]},
    )
    mined = [np.array([8]), np.array([9]), np.array([2]), np.array([], dtype=int)]
    batch = make_batch(data, [0, 1, 2, 3], random.Random(0), hard_negatives=True, mined=mined)
    # Row 2's mined question is in cluster 1, which is in the batch: dropped. Row 3 has none.
    assert sorted(batch.negatives) == [[8], [9]]
    batch = make_batch(data, [0, 2], random.Random(0), hard_negatives=True, mined=mined)
    assert sorted(batch.negatives) == [[2], [8]]  # without pair 1 in the batch, cluster 1 is a negative


def test_cluster_positives_draw_other_questions_of_the_cluster() -> None:
    # One cluster of four questions joined by three labelled pairs; a second cluster of two.
    data = prepared(
        [
            Pair("learn python", "study python", 1),
            Pair("study python", "master python", 1),
            Pair("master python", "get good at python", 1),
            Pair("cook rice", "make rice", 1),
        ]
    )
    python = {tuple(data.questions[j]) for j in data.cluster_members[data.clusters[0]]}
    assert len(python) == 4
    rng = random.Random(0)
    seen = set()
    for _ in range(200):
        batch = make_batch(data, [0, 3], rng, hard_negatives=False, cluster_positives=1.0)
        a, p = batch.anchors[0], batch.positives[0]
        assert tuple(a) in python and tuple(p) in python and a != p
        seen.add(frozenset((tuple(a), tuple(p))))
        assert {tuple(batch.anchors[1]), tuple(batch.positives[1])} == set(
            map(tuple, [data.ids1[3], data.ids2[3]])
        )
    # The anchor is one of row 0's two questions; the positive any other of the four: 5 pairs, not the one.
    assert len(seen) == 5


def test_each_hard_negative_names_the_row_it_is_a_non_duplicate_of() -> None:
    """`pair_negatives="batch"` pairs negative k with anchor negative_rows[k]: a labelled non-duplicate."""
    pairs = [
        Pair("learn python", "study python", 1),
        Pair("cook rice", "make rice", 1),
        Pair("fix a bike", "repair a bike", 1),
        Pair("learn python", "learn java", 0),
        Pair("make rice", "make bread", 0),
        Pair("make rice", "boil eggs", 0),
    ]
    tokenizer = Tokenizer.train([q for p in pairs for q in (p.question1, p.question2)], vocab_size=100)
    data = prepare(pairs, tokenizer)
    ids = {q: tuple(tokenizer.tokenize([q])[0]) for p in pairs for q in (p.question1, p.question2)}
    clusters = {
        "python": {ids["learn python"], ids["study python"]},
        "rice": {ids["cook rice"], ids["make rice"]},
    }
    non_dups = {"python": {ids["learn java"]}, "rice": {ids["make bread"], ids["boil eggs"]}}
    rng = random.Random(0)
    for _ in range(50):
        batch = make_batch(data, [2, 0, 1], rng, hard_negatives=True)
        assert len(batch.negatives) == len(batch.negative_rows) == 2  # the bike pair has none
        for negative, row in zip(batch.negatives, batch.negative_rows, strict=True):
            anchor = tuple(batch.anchors[row])
            name = next(n for n, members in clusters.items() if anchor in members)
            assert tuple(negative) in non_dups[name]
