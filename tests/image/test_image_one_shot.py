"""N-way one-shot scoring against slow loops, the baselines against brute force, and the Omniglot zips."""

from __future__ import annotations

import numpy as np
import pytest
from omniglot_samples import REAL_OMNIGLOT, needs_real_omniglot

from siamdup.image.baselines import hausdorff_costs, hausdorff_scores, ink_points, pixel_scores
from siamdup.image.omniglot import Characters, OmniglotDataError, OneShotRun, load_background, load_runs
from siamdup.image.one_shot import accuracy_from_scores, make_runs, one_shot_accuracy, run_scores


def slow_accuracy(scores: np.ndarray, answers: np.ndarray) -> float:
    right = 0
    for r in range(scores.shape[0]):
        for m in range(scores.shape[1]):
            row = list(scores[r, m])
            best = max(row)
            winners = [n for n, s in enumerate(row) if s == best]
            right += winners == [answers[r, m]]
    return right / (scores.shape[0] * scores.shape[1])


def test_accuracy_matches_a_slow_loop_ties_included():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(6, 20, 20)).astype(float)  # many ties
    answers = rng.integers(0, 20, size=(6, 20))
    assert accuracy_from_scores(scores, answers) == slow_accuracy(scores, answers)
    smooth = rng.random((6, 20, 20))
    assert accuracy_from_scores(smooth, answers) == slow_accuracy(smooth, answers)
    assert accuracy_from_scores(np.zeros((1, 3, 3)), np.array([[0, 1, 2]])) == 0.0  # all tied: no credit


def random_runs(rng: np.random.Generator, n_runs: int = 3, ways: int = 5, side: int = 6) -> list[OneShotRun]:
    return [
        OneShotRun(
            f"r{r}", rng.random((ways, side, side)), rng.random((ways, side, side)), rng.permutation(ways)
        )
        for r in range(n_runs)
    ]


def test_run_scores_match_a_loop_over_items():
    rng = np.random.default_rng(1)
    runs = random_runs(rng)
    projection = rng.normal(size=(36, 8))

    def embed(images: np.ndarray) -> np.ndarray:
        v = images.reshape(len(images), -1) @ projection
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    scores, answers = run_scores(runs, embed)
    for r, run in enumerate(runs):
        for m, item in enumerate(run.test):
            for n, image in enumerate(run.training):
                assert scores[r, m, n] == pytest.approx(float(embed(item[None])[0] @ embed(image[None])[0]))
    np.testing.assert_array_equal(answers, [run.answers for run in runs])
    assert one_shot_accuracy(runs, embed) == slow_accuracy(scores, answers)


def test_identical_test_items_are_all_found():
    rng = np.random.default_rng(2)
    runs = [OneShotRun("r", t := rng.random((5, 6, 6)), t[[3, 1, 0, 4, 2]], np.array([3, 1, 0, 4, 2]))]
    assert accuracy_from_scores(pixel_scores(runs), np.stack([runs[0].answers])) == 1.0


def slow_hausdorff(a: np.ndarray, b: np.ndarray) -> float:
    if not len(a) or not len(b):
        return float("inf")
    a_to_b = np.mean([min(np.hypot(*(p - q)) for q in b) for p in a])
    b_to_a = np.mean([min(np.hypot(*(p - q)) for p in a) for q in b])
    return float(max(a_to_b, b_to_a))


def test_modified_hausdorff_matches_brute_force():
    rng = np.random.default_rng(3)
    query = rng.normal(size=(17, 2)) * 5
    candidates = [rng.normal(size=(n, 2)) * 5 for n in (1, 9, 30)] + [np.empty((0, 2))]
    costs = hausdorff_costs(query, candidates)
    expected = [slow_hausdorff(query, c) for c in candidates]
    np.testing.assert_allclose(costs[:3], expected[:3], rtol=1e-9)
    assert costs[3] == np.inf


def test_ink_points_are_centred_and_scores_pick_the_least_cost():
    image = np.zeros((10, 10))
    image[2, 3] = image[4, 7] = 1.0
    np.testing.assert_allclose(ink_points(image), [[-1, -2], [1, 2]])
    rng = np.random.default_rng(4)
    runs = [
        OneShotRun(
            "r", t := (rng.random((4, 12, 12)) > 0.8).astype(float), t[::-1].copy(), np.array([3, 2, 1, 0])
        )
    ]
    scores = hausdorff_scores(runs)
    np.testing.assert_array_equal(hausdorff_scores(runs * 2, workers=2), np.concatenate([scores, scores]))
    assert (
        scores[0, 0, 3] == pytest.approx(0.0, abs=1e-6)
        and accuracy_from_scores(scores, np.stack([runs[0].answers])) == 1.0
    )


def test_make_runs_stay_within_an_alphabet_and_answer_right():
    rng = np.random.default_rng(5)
    names = [("A", f"c{i}") for i in range(6)] + [("B", f"c{i}") for i in range(3)]
    characters = Characters(names, rng.random((9, 4, 5, 5)).astype(np.float32))
    runs = make_runs(characters, n_runs=3, ways=5, seed=0)
    for run in runs:
        for m, answer in enumerate(run.answers):
            rows = [
                i for i in range(9) if (characters.images[i] == run.training[answer]).all(axis=(1, 2)).any()
            ]
            assert rows and (characters.images[rows[0]] == run.test[m]).all(axis=(1, 2)).any()
            assert names[rows[0]][0] == "A"  # alphabet B has too few characters for 5 ways
    with pytest.raises(ValueError, match="no alphabet has 7"):
        make_runs(characters, 1, ways=7)


def test_background_zips_are_read_once_per_alphabet(synthetic_omniglot):
    background = load_background(synthetic_omniglot, size=16)
    assert background.alphabets == ["Alpha", "Beta", "Gamma", "Shared"]
    assert background.images.shape == (8 + 8 + 6 + 6, 6, 16, 16)
    only_second = load_background(synthetic_omniglot, size=16, splits=("small2",))
    shared = [i for i, (a, _) in enumerate(background.names) if a == "Shared"]
    shared2 = [i for i, (a, _) in enumerate(only_second.names) if a == "Shared"]
    # small1's copy wins: small2's differently drawn one was skipped
    assert not np.array_equal(background.images[shared], only_second.images[shared2])
    runs = load_runs(synthetic_omniglot, size=16)
    assert len(runs) == 4 and runs[0].training.shape == (5, 16, 16)


def test_missing_zip_is_named(tmp_path):
    with pytest.raises(OmniglotDataError, match=r"all_runs\.zip is missing"):
        load_runs(tmp_path, size=28)
    (tmp_path / "images_background_small1.zip").write_bytes(b"junk")
    with pytest.raises(OmniglotDataError, match="not a readable zip"):
        load_background(tmp_path, size=28, splits=("small1",))


@needs_real_omniglot()
def test_real_omniglot_layout():
    background = load_background(REAL_OMNIGLOT, size=20)
    assert background.images.shape == (242, 20, 20, 20) and len(background.alphabets) == 8
    runs = load_runs(REAL_OMNIGLOT, size=20)
    assert len(runs) == 20 and all(sorted(run.answers) == list(range(20)) for run in runs)
