import json
from pathlib import Path

import pytest
from rich.console import Console
from verifier_samples import building, one_thread, tiny_verifier_config

from siamdup.training.checkpoints import CHECKPOINT
from siamdup.training.loop import train
from siamdup.verify import Verifier

QUIET = Console(quiet=True)


def test_a_trained_verifier_tells_duplicates_on_pairs_it_never_saw(trained_verifier_dir: Path) -> None:
    metrics = json.loads((trained_verifier_dir / "metrics.json").read_text())
    assert metrics["dev"]["accuracy"] >= 0.8 and metrics["dev"]["roc_auc"] >= 0.85  # chance: 0.5
    config = json.loads((trained_verifier_dir / "config.json").read_text())
    assert config["format"] == "siamdup-verifier" and config["encoder"]["hf_config"]["num_hidden_layers"] == 1
    assert config["threshold"] == pytest.approx(metrics["dev"]["threshold"])
    assert config["temperature"] == metrics["calibration"]["temperature"] > 0
    assert metrics["calibration"]["ece_after"] <= metrics["calibration"]["ece_before"]
    assert metrics["data"]["dev_leaks_dropped"] == 0 and metrics["history"][0]["dev_ece"] >= 0
    assert (trained_verifier_dir / CHECKPOINT / "trainer_state.json").exists()


def test_the_saved_verifier_reproduces_its_dev_figures(trained_verifier_dir: Path, verifier_files) -> None:
    from siamdup.data.readers import read_pairs
    from siamdup.evaluate import PairEvaluator
    from siamdup.verify.evaluation import evaluate_verifier

    metrics = json.loads((trained_verifier_dir / "metrics.json").read_text())
    with one_thread():
        report = evaluate_verifier(
            PairEvaluator(read_pairs(verifier_files[1])[0]), Verifier.load(trained_verifier_dir)
        )
    assert report["accuracy"] == pytest.approx(metrics["dev"]["accuracy"])
    assert report["roc_auc"] == pytest.approx(metrics["dev"]["roc_auc"])


def test_time_budget_and_resume(verifier_files, tmp_path: Path) -> None:
    """A budget too short for one step still ends the epoch with a dev evaluation and a saved verifier, and
    --resume then continues with the run's own settings."""
    out = tmp_path / "v"
    with building(layers=1), one_thread():
        first = train(*verifier_files, out, tiny_verifier_config(max_minutes=1e-6, epochs=2), console=QUIET)
        assert first["train"]["steps"] == 1 and len(first["history"]) == 1
        resumed = train(*verifier_files, out, resume=True, console=QUIET)
    assert len(resumed["history"]) == 1  # the budget was spent: nothing more to train
    assert resumed["config"]["encoder"] == "cross"


def test_train_command_recipe_verifier(verifier_files, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from siamdup.cli import app

    out = tmp_path / "v"
    args = ["train", "--recipe", "verifier", "--train", verifier_files[0], "--dev", verifier_files[1]]
    args += ["--out", out, "--max-minutes", "0.000001", "--max-length", "16", "--fp32"]
    with building(layers=1), one_thread():
        result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "dev accuracy" in result.stdout
    assert Verifier.load(out).tokenizer.max_length == 16
