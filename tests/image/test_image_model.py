"""A tiny CNN learns synthetic characters above a bar; models round-trip through save/load and refuse damage."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from siamdup.image.encoder import ImageEncoderConfig
from siamdup.image.model import ImageModel, ImageModelLoadError
from siamdup.image.omniglot import load_background, load_runs
from siamdup.image.one_shot import one_shot_accuracy
from siamdup.image.settings import ImageTrainConfig
from siamdup.image.training import train_images

TINY = dict(
    size=16, channels=16, blocks=2, dim=32, classes_per_batch=8, lr=5e-3, ways=5, validation_runs=12,
    hold_out=True, views="none",
)  # fmt: skip


def tiny_config(**overrides) -> ImageTrainConfig:
    return ImageTrainConfig(**{**TINY, "validation_alphabets": ["Gamma"], "epochs": 8, **overrides})


@pytest.fixture(scope="module")
def trained(synthetic_omniglot, tmp_path_factory):
    torch.set_num_threads(1)  # tiny tensors: threads only add overhead
    out = tmp_path_factory.mktemp("model")
    metrics = train_images(synthetic_omniglot, out, tiny_config())
    return out, metrics


def test_tiny_cnn_learns_unseen_synthetic_characters(trained, synthetic_omniglot):
    out, metrics = trained
    model = ImageModel.load(out)
    runs = load_runs(synthetic_omniglot, size=16)  # characters never seen in training
    untrained = ImageModel.untrained(ImageEncoderConfig(size=16, channels=16, blocks=2, dim=32))
    learned, chance = one_shot_accuracy(runs, model.embed), one_shot_accuracy(runs, untrained.embed)
    assert learned >= 0.8, (learned, chance)  # 5-way: chance is 0.2
    assert learned >= chance + 0.2, (learned, chance)
    assert metrics["validation"]["accuracy"] == max(h["accuracy"] for h in metrics["history"])
    assert len(metrics["history"]) == 8 and metrics["best_epoch"] >= 1
    assert -1 <= model.threshold <= 1 and model.threshold == metrics["validation"]["threshold"]


def test_save_load_round_trip(trained, synthetic_omniglot, tmp_path):
    out, _ = trained
    model = ImageModel.load(out)
    images = load_background(synthetic_omniglot, size=16).images[:3, 0]
    model.metadata["note"] = "kept"
    model.threshold = 0.42
    model.save(tmp_path / "copy")
    again = ImageModel.load(tmp_path / "copy")
    np.testing.assert_array_equal(again.embed(images), model.embed(images))
    assert again.threshold == 0.42 and again.metadata["note"] == "kept"
    assert np.allclose(np.linalg.norm(again.embed(images), axis=1), 1.0, atol=1e-5)
    assert (tmp_path / "copy" / "checksums.sha256").is_file()


def test_resume_continues_from_the_last_epoch(synthetic_omniglot, tmp_path):
    out = tmp_path / "run"
    train_images(synthetic_omniglot, out, tiny_config(epochs=2))
    state = json.loads((out / "checkpoint" / "trainer_state.json").read_text())
    state["config"]["epochs"] = 3
    (out / "checkpoint" / "trainer_state.json").write_text(json.dumps(state))
    metrics = train_images(synthetic_omniglot, out, resume=True)
    assert [h["epoch"] for h in metrics["history"]] == [1, 2, 3]
    with pytest.raises(FileExistsError, match="already holds a model"):
        train_images(synthetic_omniglot, out, tiny_config())


def test_damaged_models_are_refused_by_name(trained, tmp_path):
    out, _ = trained
    ImageModel.load(out).save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    with pytest.raises(ImageModelLoadError, match=r"checksums\.sha256"):
        weights = tmp_path / "m" / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
        ImageModel.load(tmp_path / "m")
    (tmp_path / "m" / "checksums.sha256").unlink()
    (tmp_path / "m" / "config.json").write_text(
        json.dumps({**config, "encoder": {**config["encoder"], "size": 3}})
    )
    with pytest.raises(ImageModelLoadError, match=r"config\.json: field encoder\.size"):
        ImageModel.load(tmp_path / "m")
    with pytest.raises(ImageModelLoadError, match="no image model directory"):
        ImageModel.load(tmp_path / "absent")


def test_bad_settings_and_alphabets_are_refused(synthetic_omniglot, tmp_path):
    with pytest.raises(ValueError, match="classes_per_batch"):
        train_images(synthetic_omniglot, tmp_path / "a", tiny_config(classes_per_batch=1))
    with pytest.raises(ValueError, match="Klingon"):
        train_images(synthetic_omniglot, tmp_path / "b", tiny_config(validation_alphabets=["Klingon"]))
