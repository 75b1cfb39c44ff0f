import json
from pathlib import Path

import numpy as np
import pytest

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.model.ensemble import EnsembleConfig, EnsembleEncoder
from siamdup.model.siamese import ModelLoadError

TEXTS = ["how do i learn chess?", "is yoga hard?", "why do people like poetry?", "how difficult is piano?"]
OTHERS = ["what is the best way to learn chess?", "is it hard to pick up yoga?", "why?", "is sewing hard?"]


def ensemble_of(a: Siamese, b: Siamese, weights: list[float]) -> Siamese:
    return Siamese(a.tokenizer, EnsembleEncoder([a.encoder, b.encoder], weights), threshold=0.5)


def test_similarity_is_the_weighted_mean_of_the_members_cosines(
    tiny_model_dir: Path, untrained_twin_dir: Path
) -> None:
    a, b = Siamese.load(tiny_model_dir), Siamese.load(untrained_twin_dir)
    model = ensemble_of(a, b, [0.3, 0.7])
    assert model.dim == a.dim + b.dim == 32 + 24
    vectors = model.encode(TEXTS)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # The slow reference: each member's cosine on its own, pair by pair, then weighted.
    expected = [
        0.3 * float(a.similarity([x], [y])[0]) + 0.7 * float(b.similarity([x], [y])[0])
        for x, y in zip(TEXTS, OTHERS, strict=True)
    ]
    assert np.allclose(model.similarity(TEXTS, OTHERS), expected, atol=1e-5)
    # The members' own scores differ, so the weights matter.
    assert not np.allclose(a.similarity(TEXTS, OTHERS), b.similarity(TEXTS, OTHERS), atol=1e-2)


def test_save_load_round_trip_and_fingerprint(
    tiny_model_dir: Path, untrained_twin_dir: Path, tmp_path: Path
) -> None:
    a, b = Siamese.load(tiny_model_dir), Siamese.load(untrained_twin_dir)
    model = ensemble_of(a, b, [0.6, 0.4])
    model.save(tmp_path / "ensemble")
    again = Siamese.load(tmp_path / "ensemble")
    assert again.config()["architecture"] == "ensemble"
    assert again.encoder.config.weights == [0.6, 0.4]
    assert np.array_equal(model.encode(TEXTS), again.encode(TEXTS))
    assert again.fingerprint() == model.fingerprint()
    assert ensemble_of(a, b, [0.5, 0.5]).fingerprint() != model.fingerprint()


def test_load_refuses_hand_edited_weights(
    tiny_model_dir: Path, untrained_twin_dir: Path, tmp_path: Path
) -> None:
    a, b = Siamese.load(tiny_model_dir), Siamese.load(untrained_twin_dir)
    ensemble_of(a, b, [0.6, 0.4]).save(tmp_path / "e")
    config = json.loads((tmp_path / "e" / "config.json").read_text())
    config["encoder"]["weights"] = [0.6, 0.6]
    (tmp_path / "e" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=r"config\.json: encoder: field weights: .*must sum to 1"):
        Siamese.load(tmp_path / "e")


def test_an_index_takes_an_ensemble_like_any_model(tiny_model_dir: Path, untrained_twin_dir: Path) -> None:
    model = ensemble_of(Siamese.load(tiny_model_dir), Siamese.load(untrained_twin_dir), [0.8, 0.2])
    index = DuplicateIndex(model)
    index.add([str(i) for i in range(len(TEXTS))], TEXTS)
    best = index.query(OTHERS[0], k=1)[0]
    assert best.text == TEXTS[0]
    assert best.similarity == pytest.approx(float(model.similarity([TEXTS[0]], [OTHERS[0]])[0]), abs=1e-5)


@pytest.mark.parametrize(
    ("members", "weights", "message"),
    [
        ([{}], [1.0], "two or more members"),
        ([{}, {}], [1.0], "a weight for each"),
        ([{}, {}], [0.7, 0.7], "sum to 1"),
        ([{}, {}], [1.5, -0.5], ">= 0"),
    ],
)
def test_config_refuses_bad_members_or_weights(members: list, weights: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EnsembleConfig(members=members, weights=weights)
