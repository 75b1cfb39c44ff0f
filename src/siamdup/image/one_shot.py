"""N-way one-shot classification: each test item goes to the training image it is most similar to.

The standard protocol (Lake et al. 2015): per run, compare each of the test items with the N training
images (one per character) and predict the best match; accuracy over all trials of all runs. `make_runs`
draws runs of the same shape from held-out characters, for choosing the best epoch without touching the
standard runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from siamdup.image.omniglot import Characters, OneShotRun

Embed = Callable[[np.ndarray], np.ndarray]  # images (n, size, size) → unit vectors (n, d)


def accuracy_from_scores(scores: np.ndarray, answers: np.ndarray) -> float:
    """Accuracy of picking, in each run r and test item m, the training image n of highest `scores[r, m, n]`.

    A tie counts as wrong unless every tied image is the answer: a model that scores everything alike must
    not be credited by the order of the images.
    """
    best = scores.max(axis=2, keepdims=True)
    is_best = scores >= best
    answer_is_best = np.take_along_axis(is_best, answers[..., None], axis=2)[..., 0]
    unique = is_best.sum(axis=2) == 1
    return float((answer_is_best & unique).mean())


def run_scores(runs: Sequence[OneShotRun], embed: Embed) -> tuple[np.ndarray, np.ndarray]:
    """Cosine similarities (runs, test items, training images) of every run, from one call of `embed`, and
    the answers (runs, test items)."""
    training = np.stack([run.training for run in runs])
    test = np.stack([run.test for run in runs])
    r, n, m = training.shape[0], training.shape[1], test.shape[1]
    vectors = embed(
        np.concatenate([training.reshape(r * n, *training.shape[2:]), test.reshape(r * m, *test.shape[2:])])
    )
    train_vectors = vectors[: r * n].reshape(r, n, -1)
    test_vectors = vectors[r * n :].reshape(r, m, -1)
    scores = np.einsum("rmd,rnd->rmn", test_vectors, train_vectors)
    return scores, np.stack([run.answers for run in runs])


def one_shot_accuracy(runs: Sequence[OneShotRun], embed: Embed) -> float:
    """Accuracy over every trial of `runs` with the cosine of `embed`'s vectors."""
    scores, answers = run_scores(runs, embed)
    return accuracy_from_scores(scores, answers)


def make_runs(characters: Characters, n_runs: int, ways: int = 20, seed: int = 0) -> list[OneShotRun]:
    """`n_runs` runs of `ways` characters, each within one alphabet (alphabets with at least `ways`
    characters, taken in turn); per run two drawers, one for the training images and one for the tests."""
    rng = np.random.default_rng(seed)
    by_alphabet: dict[str, list[int]] = {}
    for row, (alphabet, _) in enumerate(characters.names):
        by_alphabet.setdefault(alphabet, []).append(row)
    usable = [rows for _, rows in sorted(by_alphabet.items()) if len(rows) >= ways]
    if not usable:
        raise ValueError(f"no alphabet has {ways} characters to draw a {ways}-way run from")
    runs = []
    for number in range(n_runs):
        rows = rng.choice(usable[number % len(usable)], size=ways, replace=False)
        first, second = rng.choice(characters.images.shape[1], size=2, replace=False)
        order = rng.permutation(ways)
        runs.append(
            OneShotRun(
                name=f"held-out run {number + 1}",
                training=characters.images[rows, first],
                test=characters.images[rows[order], second],
                answers=order,
            )
        )
    return runs
