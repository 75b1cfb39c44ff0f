import json
from pathlib import Path

import pytest
import torch
from conftest import tiny_config
from rich.console import Console
from safetensors.torch import load_file

from siamdup import Siamese
from siamdup.train import CHECKPOINT, TrainConfig, lr_at, train

QUIET = Console(quiet=True)


def test_trained_model_directory_is_complete_and_pickle_free(tiny_model_dir: Path) -> None:
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "metrics.json", CHECKPOINT} <= names
    assert not [
        p for p in tiny_model_dir.rglob("*") if p.suffix in {".pt", ".pth", ".pkl", ".bin", ".pickle"}
    ]
    config = json.loads((tiny_model_dir / "config.json").read_text())
    metrics = json.loads((tiny_model_dir / "metrics.json").read_text())
    assert config["threshold"] == pytest.approx(metrics["dev"]["threshold"])
    assert config["encoder"]["d_model"] == 32
    assert metrics["dev"]["accuracy"] >= 0.95  # the synthetic task is easy; a broken pipeline is near 0.5
    assert metrics["train"]["pairs_per_s"] > 0 and metrics["peak_memory_mb"] > 0
    assert [h["epoch"] for h in metrics["history"]] == list(range(1, 7))


def test_training_beats_the_untrained_model(tiny_model_dir: Path, synthetic_files: tuple[Path, Path]) -> None:
    from siamdup.data.readers import read_pairs
    from siamdup.evaluate import PairEvaluator

    trained = Siamese.load(tiny_model_dir)
    untrained = Siamese.load(tiny_model_dir)
    for p in untrained.encoder.parameters():
        torch.nn.init.normal_(p, std=0.1)
    evaluator = PairEvaluator(read_pairs(synthetic_files[1])[0])
    assert evaluator.tune(trained)["roc_auc"] > evaluator.tune(untrained)["roc_auc"] + 0.1


def test_same_seed_same_model_and_resume_continues_exactly(tmp_path: Path, synthetic_files) -> None:
    config = tiny_config(epochs=3)
    train(*synthetic_files, tmp_path / "straight", config, console=QUIET)

    def stop_after_first(record: dict) -> None:
        if record["epoch"] == 1:
            raise KeyboardInterrupt  # as if the run was killed right after epoch 1's checkpoint

    with pytest.raises(KeyboardInterrupt):
        train(*synthetic_files, tmp_path / "resumed", config, console=QUIET, on_epoch=stop_after_first)
    train(*synthetic_files, tmp_path / "resumed", resume=True, console=QUIET)

    a = load_file(str(tmp_path / "straight" / CHECKPOINT / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / CHECKPOINT / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-6), k
    hist = json.loads((tmp_path / "resumed" / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in hist] == [1, 2, 3]


def test_early_stopping_and_time_budget(tmp_path: Path, synthetic_files) -> None:
    metrics = train(*synthetic_files, tmp_path / "early", tiny_config(epochs=30, patience=1), console=QUIET)
    assert len(metrics["history"]) < 30  # perfect dev accuracy cannot improve: stops after patience
    timed = train(
        *synthetic_files, tmp_path / "timed", tiny_config(epochs=30, max_minutes=0.0), console=QUIET
    )
    assert len(timed["history"]) == 1  # a zero budget still trains (part of) one epoch and saves it


def test_resume_without_checkpoint_is_a_clear_error(tmp_path: Path, synthetic_files) -> None:
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(*synthetic_files, tmp_path, resume=True, console=QUIET)


def test_learning_rate_schedule() -> None:
    c = TrainConfig(lr=1.0, warmup_steps=10, min_lr_ratio=0.1)
    assert lr_at(0, 100, c) == pytest.approx(0.1)
    assert lr_at(9, 100, c) == pytest.approx(1.0)
    assert lr_at(10, 100, c) == pytest.approx(1.0)
    assert lr_at(55, 100, c) == pytest.approx(0.55)
    assert lr_at(100, 100, c) == pytest.approx(0.1)
    assert all(lr_at(s, 100, c) >= lr_at(s + 1, 100, c) for s in range(10, 120))


def test_contrastive_term_on_labelled_pairs_trains(tmp_path: Path, synthetic_files) -> None:
    config = tiny_config(pair_loss_weight=1.0, epochs=4)
    metrics = train(*synthetic_files, tmp_path / "pairs", config, console=QUIET)
    assert metrics["dev"]["accuracy"] >= 0.95
    assert metrics["config"]["pair_loss_weight"] == 1.0
