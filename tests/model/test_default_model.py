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


def test_default_model_works_with_no_path_and_separates_clear_cases() -> None:
    model = Siamese.load()
    scores, decisions = model.predict(
        ["How do I learn Python?", "How can I lose weight fast?", "What is the capital of France?"],
        [
            "What is the best way to learn Python?",
            "How do I lose weight quickly?",
            "How do I bake bread at home?",
        ],
    )
    assert decisions.tolist() == [True, True, False], scores
    width = json.loads((default_model_path() / "config.json").read_text())["encoder"]["d_model"]
    assert model.encode(["How old are you?"]).shape == (1, width)


def test_shipped_config_round_trips_so_its_fingerprint_is_stable() -> None:
    """Indexes store the model's fingerprint, which hashes the encoder config: a new optional setting must
    not appear in the config of a model that does not use it."""
    import json

    from siamdup.model.encoder import EncoderConfig
    from siamdup.model.siamese import default_model_path

    saved = json.loads((default_model_path() / "config.json").read_text())["encoder"]
    assert EncoderConfig(**saved).to_dict() == saved


def test_shipped_weights_score_on_dev_what_their_metrics_say(qqp_dir) -> None:
    """The package stores the weights in float16; the copy must score on dev as the float32 model it came
    from did (metrics.json), at the stored τ."""
    from siamdup.data.readers import read_pairs
    from siamdup.evaluate import PairEvaluator

    metrics = json.loads((default_model_path() / "metrics.json").read_text())
    report = PairEvaluator(read_pairs(qqp_dir / "dev.tsv")[0])(Siamese.load())
    assert report["accuracy"] == pytest.approx(metrics["dev"]["accuracy"], abs=0.002)
