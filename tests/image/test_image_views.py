"""Test-time views move drawings as declared, the model averages them and keeps them through save/load, and
training on every alphabet keeps the last epoch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from siamdup.image.encoder import ImageEncoderConfig
from siamdup.image.model import ImageModel, ImageModelLoadError
from siamdup.image.omniglot import load_background
from siamdup.image.settings import ImageTrainConfig
from siamdup.image.training import train_images, training_data
from siamdup.image.views import VIEW_SETS, View, embed_views, warp


def a_square(size: int = 16) -> torch.Tensor:
    image = torch.zeros(1, size, size)
    image[0, 6:10, 6:10] = 1.0
    return image


def ink_centre_and_extent(image: torch.Tensor) -> tuple[np.ndarray, float]:
    rows, cols = np.nonzero(image[0].numpy() > 0.5)
    return np.array([rows.mean(), cols.mean()]), float(cols.max() - cols.min() + 1)


def test_identity_view_changes_nothing():
    square = a_square()
    assert torch.equal(warp(square, View()), square)


def test_shift_and_scale_move_the_ink_as_declared():
    centre, width = ink_centre_and_extent(a_square())
    moved_centre, _ = ink_centre_and_extent(warp(a_square(), View(shift_x=0.25)))
    assert moved_centre[1] == pytest.approx(centre[1] + 4, abs=0.01)  # a quarter of 16 pixels, to the right
    assert moved_centre[0] == pytest.approx(centre[0], abs=0.01)
    _, enlarged = ink_centre_and_extent(warp(a_square(), View(scale=1.5)))
    _, shrunk = ink_centre_and_extent(warp(a_square(), View(scale=0.5)))
    assert enlarged > width > shrunk


def test_rotation_by_a_right_angle_turns_the_image():
    image = torch.rand(1, 16, 16)
    turned = warp(image, View(rotation=90))
    torch.testing.assert_close(turned, torch.rot90(image, -1, dims=(1, 2)), atol=1e-5, rtol=0)  # clockwise


def test_model_embeds_the_normalised_mean_of_its_views(tmp_path):
    views = VIEW_SETS["scales"]
    model = ImageModel.untrained(ImageEncoderConfig(size=16, channels=8, blocks=2, dim=8))
    model.views = views
    images = np.random.default_rng(0).random((5, 16, 16), dtype=np.float32)
    model.encoder.eval()
    with torch.no_grad():
        each = [model.encoder(warp(torch.from_numpy(images), v)).numpy() for v in views]
    mean = np.mean(each, axis=0)
    expected = mean / np.linalg.norm(mean, axis=1, keepdims=True)
    np.testing.assert_allclose(model.embed(images), expected, atol=1e-5)
    with torch.no_grad():
        direct = embed_views(model.encoder, torch.from_numpy(images), views).numpy()
    np.testing.assert_allclose(direct, expected, atol=1e-5)
    model.save(tmp_path / "m")
    again = ImageModel.load(tmp_path / "m")
    assert again.views == views
    np.testing.assert_array_equal(again.embed(images), model.embed(images))


def test_models_without_views_load_with_the_identity_and_bad_views_are_named(tmp_path):
    ImageModel.untrained(ImageEncoderConfig(size=16, channels=8, blocks=2, dim=8)).save(tmp_path / "m")
    config_path = tmp_path / "m" / "config.json"
    config = json.loads(config_path.read_text())
    (tmp_path / "m" / "checksums.sha256").unlink()
    config_path.write_text(json.dumps({k: v for k, v in config.items() if k != "views"}))
    assert ImageModel.load(tmp_path / "m").views == (View(),)
    config_path.write_text(json.dumps({**config, "views": [{"scale": 9.0}]}))
    with pytest.raises(ImageModelLoadError, match=r"config\.json: field views\.0\.scale"):
        ImageModel.load(tmp_path / "m")


def test_training_on_every_alphabet_keeps_the_last_epoch(synthetic_omniglot, tmp_path):
    torch.set_num_threads(1)
    tiny = dict(size=16, channels=8, blocks=2, dim=16, classes_per_batch=8, ways=5, validation_runs=4)
    config = ImageTrainConfig(
        **tiny, epochs=3, validation_alphabets=["Gamma"], hold_out=False, views="scales"
    )
    metrics = train_images(synthetic_omniglot, tmp_path / "m", config)
    assert metrics["best_epoch"] == 3 and [h["epoch"] for h in metrics["history"]] == [1, 2, 3]
    model = ImageModel.load(tmp_path / "m")
    assert model.views == VIEW_SETS["scales"]
    assert "every alphabet" in model.metadata["trained_on"]
    background = load_background(synthetic_omniglot, size=16)
    every, _ = training_data(background, config)
    held_out, _ = training_data(
        background, ImageTrainConfig(**tiny, validation_alphabets=["Gamma"], hold_out=True)
    )
    assert len(every) == 4 * len(background.names) == 4 * 28  # with the 90° turns as characters
    assert len(held_out) == 4 * (28 - 6)
    with pytest.raises(ValueError, match="views must be one of"):
        train_images(synthetic_omniglot, tmp_path / "x", ImageTrainConfig(**tiny, views="mirror"))
