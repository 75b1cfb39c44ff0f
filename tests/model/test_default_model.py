"""The model that ships in the package: loads with no data and no path, and gets the README's examples right."""

import json

import pytest

from siamdup import Siamese
from siamdup.model.siamese import default_model_path


def test_default_model_is_small_and_documented() -> None:
    folder = default_model_path()
    assert (folder / "model.safetensors").stat().st_size <= 25 * 2**20
    assert (folder / "MODEL_CARD.md").read_text().count("siamdup train") >= 1
    config = json.loads((folder / "config.json").read_text())
    metrics = json.loads((folder / "metrics.json").read_text())
    assert config["threshold"] == pytest.approx(metrics["dev"]["threshold"])
    assert metrics["dev"]["accuracy"] >= 0.78  # the bar, measured on dev at the stored τ
    assert not (folder / "checkpoint").exists()  # training state is not shipped


def test_default_model_decides_the_readme_examples() -> None:
    model = Siamese.load()
    scores, decisions = model.predict(
        ["How old are you?", "Where are you from?", "How do I learn Python?"],
        ["What is your age?", "Where are you going?", "What is the best way to learn Python?"],
    )
    assert decisions.tolist() == [True, False, True], scores
