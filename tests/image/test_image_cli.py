"""`siamdup images` as written: train, evaluate, compare, and clear errors for bad input."""

from __future__ import annotations

import json
import zipfile

import pytest
from omniglot_samples import REAL_OMNIGLOT, needs_real_omniglot
from typer.testing import CliRunner

from siamdup.cli import app
from siamdup.image.encoder import ImageEncoderConfig
from siamdup.image.model import ImageModel
from siamdup.image.views import VIEW_SETS

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def cli_model(synthetic_omniglot, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "models" / "tiny"
    result = invoke(
        "images", "train", "--data", synthetic_omniglot, "--out", out, "--epochs", "2", "--size", "16",
        "--channels", "8", "--classes-per-batch", "4", "--validation-alphabets", "Gamma", "--ways", "5",
        "--threads", "1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "validation 20-way accuracy" in result.output and str(out) in result.output
    return out


def test_train_writes_a_loadable_model(cli_model):
    model = ImageModel.load(cli_model)
    assert model.size == 16 and model.encoder.config.channels == 8
    assert model.views == VIEW_SETS["scales"]  # the default test-time views, saved with the model
    assert len(json.loads((cli_model / "metrics.json").read_text())["history"]) == 2


def test_train_refuses_to_replace_a_model(cli_model, synthetic_omniglot):
    result = invoke("images", "train", "--data", synthetic_omniglot, "--out", cli_model, "--epochs", "1")
    assert result.exit_code == 2 and "already holds a model" in result.output


def test_evaluate_prints_the_one_shot_accuracy(cli_model, synthetic_omniglot):
    result = invoke("images", "evaluate", "--model", cli_model, "--data", synthetic_omniglot, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["trials"] == 20 and len(report["runs"]) == 4 and 0 <= report["accuracy"] <= 1
    text = invoke("images", "evaluate", "--model", cli_model, "--data", synthetic_omniglot)
    assert "4-run 5-way one-shot accuracy" in text.output


def test_compare_two_drawings(cli_model, synthetic_omniglot, tmp_path):
    with zipfile.ZipFile(synthetic_omniglot / "all_runs.zip") as archive:
        a = tmp_path / "a.png"
        a.write_bytes(archive.read("run01/training/class01.png"))
    same = invoke("images", "compare", a, a, "--model", cli_model)
    assert same.exit_code == 0, same.output
    assert "similarity 1.0000 (" in same.output and "at τ=" in same.output


def test_bad_input_gets_a_clear_error(cli_model, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("no image here")
    result = invoke("images", "compare", bad, bad, "--model", cli_model)
    assert result.exit_code == 2 and "bad.png" in result.output and "Traceback" not in result.output
    result = invoke("images", "evaluate", "--model", cli_model, "--data", tmp_path)
    assert result.exit_code == 2 and "all_runs.zip is missing" in result.output
    result = invoke("images", "evaluate", "--model", tmp_path, "--data", tmp_path)
    assert result.exit_code == 2 and "missing config.json" in result.output
    result = invoke("images", "train", "--data", tmp_path, "--out", tmp_path / "new", "--epochs", "1")
    assert result.exit_code == 2 and "images_background_small1.zip is missing" in result.output
    assert not (tmp_path / "new").exists()  # the folder made for the lock is removed again
    result = invoke("images", "train", "--data", tmp_path, "--out", tmp_path / "v", "--views", "mirror")
    assert result.exit_code == 2 and "views must be one of none, scales" in result.output


@needs_real_omniglot()
def test_evaluate_on_the_real_runs(tmp_path):
    ImageModel.untrained(ImageEncoderConfig(size=28, channels=8)).save(tmp_path / "untrained")
    result = invoke(
        "images", "evaluate", "--model", tmp_path / "untrained", "--data", REAL_OMNIGLOT, "--json"
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["trials"] == 400


@needs_real_omniglot()
def test_the_shipped_model_scores_the_standard_runs():
    result = invoke("images", "evaluate", "--data", REAL_OMNIGLOT, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accuracy"] >= 0.90  # the untrained baselines reach 0.61 at best
