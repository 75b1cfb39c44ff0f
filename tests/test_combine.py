import itertools
from pathlib import Path

import numpy as np
import pytest

from siamdup import Siamese
from siamdup.combine import combine, weight_grid
from siamdup.data.readers import read_pairs
from siamdup.metrics import best_threshold
from siamdup.model.ensemble import EnsembleEncoder
from siamdup.tokenizer import Tokenizer


def test_weight_grid_is_every_positive_composition() -> None:
    assert weight_grid(2, 0.25) == [(0.25, 0.75), (0.5, 0.5), (0.75, 0.25)]
    grid = weight_grid(3, 0.1)
    # The slow reference: all triples of tenths, each at least one tenth, summing to 1.
    loop = [w for w in itertools.product(range(1, 10), repeat=3) if sum(w) == 10]
    assert sorted(tuple(round(x * 10) for x in w) for w in grid) == sorted(loop)
    assert all(abs(sum(w) - 1) < 1e-9 for w in grid)
    with pytest.raises(ValueError, match="divide 1"):
        weight_grid(2, 0.3)
    with pytest.raises(ValueError, match="at least 3"):
        weight_grid(3, 0.5)


def test_combine_picks_the_best_weighting_on_the_pairs(
    tiny_model_dir: Path, untrained_twin_dir: Path, synthetic_files
) -> None:
    trained, untrained = Siamese.load(tiny_model_dir), Siamese.load(untrained_twin_dir)
    pairs, _ = read_pairs(synthetic_files[1])
    model, report = combine([trained, untrained], pairs, step=0.1)
    labels = np.array([p.label for p in pairs])
    q1, q2 = [p.question1 for p in pairs], [p.question2 for p in pairs]
    # The slow reference: build and score each weighting's ensemble in full.
    by_weighting = {}
    for w in weight_grid(2, 0.1):
        ensemble = Siamese(trained.tokenizer, EnsembleEncoder([trained.encoder, untrained.encoder], list(w)))
        by_weighting[w] = best_threshold(labels, ensemble.similarity(q1, q2), "accuracy")[1]
    assert report["accuracy"] == pytest.approx(max(by_weighting.values()))
    assert by_weighting[tuple(model.encoder.config.weights)] == pytest.approx(report["accuracy"])
    assert len(report["weights_tried"]) == 9
    # The trained member carries the ensemble; the random one is worth little.
    assert model.encoder.config.weights[0] > 0.5
    assert report["accuracy"] > report["members"][1]["accuracy"] + 0.1
    # The stored τ is the tuned one: the model scores the report's accuracy on the same pairs.
    assert np.mean(model.predict(q1, q2)[1] == labels) == pytest.approx(report["accuracy"])


def test_combine_with_given_weights_and_refusals(
    tiny_model_dir: Path, untrained_twin_dir: Path, synthetic_files
) -> None:
    trained, untrained = Siamese.load(tiny_model_dir), Siamese.load(untrained_twin_dir)
    pairs, _ = read_pairs(synthetic_files[1])
    model, report = combine([trained, untrained], pairs, weights=[0.5, 0.5])
    assert model.encoder.config.weights == [0.5, 0.5] and len(report["weights_tried"]) == 1
    with pytest.raises(ValueError, match="two or more"):
        combine([trained], pairs)
    with pytest.raises(ValueError, match="sum to 1"):
        combine([trained, untrained], pairs, weights=[0.5, 0.6])
    other_vocab = Tokenizer.train(["an entirely different vocabulary"], min_frequency=1)
    stranger = Siamese(other_vocab, untrained.encoder)
    with pytest.raises(ValueError, match="share a tokenizer"):
        combine([trained, stranger], pairs)
