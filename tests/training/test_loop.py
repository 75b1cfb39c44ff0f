import io
import itertools
import json
import time
from pathlib import Path

import pytest
import torch
from helpers import tiny_config
from rich.console import Console
from safetensors.torch import load_file

import siamdup.training.loop
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.losses import ContrastiveLoss
from siamdup.model.precision import bf16_supported
from siamdup.training.checkpoints import CHECKPOINT
from siamdup.training.loop import train
from siamdup.training.schedule import lr_at
from siamdup.training.settings import TrainConfig

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
    trained = Siamese.load(tiny_model_dir)
    untrained = Siamese.load(tiny_model_dir)
    for p in untrained.encoder.parameters():
        torch.nn.init.normal_(p, std=0.1)
    evaluator = PairEvaluator(read_pairs(synthetic_files[1])[0])
    assert evaluator.tune(trained)["roc_auc"] > evaluator.tune(untrained)["roc_auc"] + 0.1


def stop_after_first(record: dict) -> None:
    if record["epoch"] == 1:
        raise KeyboardInterrupt  # as if the run was killed right after epoch 1's checkpoint


def test_same_seed_same_model_and_resume_continues_exactly(tmp_path: Path, synthetic_files) -> None:
    config = tiny_config(epochs=3)
    train(*synthetic_files, tmp_path / "straight", config, console=QUIET)
    with pytest.raises(KeyboardInterrupt):
        train(*synthetic_files, tmp_path / "resumed", config, console=QUIET, on_epoch=stop_after_first)
    train(*synthetic_files, tmp_path / "resumed", resume=True, console=QUIET)

    a = load_file(str(tmp_path / "straight" / CHECKPOINT / "model.safetensors"))
    b = load_file(str(tmp_path / "resumed" / CHECKPOINT / "model.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k  # bit for bit: nothing in a run depends on the clock or the load
    hist = json.loads((tmp_path / "resumed" / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in hist] == [1, 2, 3]


def test_resume_reads_a_checkpoint_from_before_the_embedding_share(tmp_path: Path, synthetic_files) -> None:
    """Checkpoints written before `embedding_lr_ratio` existed hold one optimiser group without `lr_ratio`."""
    with pytest.raises(KeyboardInterrupt):
        train(*synthetic_files, tmp_path, tiny_config(epochs=2), console=QUIET, on_epoch=stop_after_first)
    meta_file = tmp_path / CHECKPOINT / "optimizer.json"
    meta = json.loads(meta_file.read_text())
    for group in meta["param_groups"]:
        del group["lr_ratio"]
    meta_file.write_text(json.dumps(meta))
    metrics = train(*synthetic_files, tmp_path, resume=True, console=QUIET)
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]


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


def test_time_budget_anneals_the_learning_rate_when_epochs_do_not_fit(
    tmp_path: Path, synthetic_files, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a clock where each reading is one second later, 30 planned epochs cannot fit a 60 s budget:
    the rate must still reach its floor by the budget's end, not stop near its peak."""
    clock = iter(range(10**9))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(clock)))
    calls: list[tuple[int, int, float, float]] = []

    def recording_lr_at(step: int, total_steps: int, config: TrainConfig, time_used: float = 0.0) -> float:
        lr = lr_at(step, total_steps, config, time_used)
        calls.append((step, total_steps, time_used, lr))
        return lr

    monkeypatch.setattr(siamdup.training.loop, "lr_at", recording_lr_at)
    config = tiny_config(epochs=30, max_minutes=1.0)
    metrics = train(*synthetic_files, tmp_path, config, console=QUIET)

    assert len(metrics["history"]) < 30
    step, total_steps, time_used, last_lr = calls[-1]
    assert step < 0.5 * total_steps  # by steps alone the rate would still be near its peak
    assert lr_at(step, total_steps, config) > 0.8 * config.lr
    assert 0.9 <= time_used < 1.0
    assert last_lr < 0.1 * config.lr
    used = [t for _, _, t, _ in calls]
    assert used == sorted(used) and used[0] < 0.1


def test_contrastive_term_on_labelled_pairs_trains(tmp_path: Path, synthetic_files) -> None:
    config = tiny_config(pair_loss_weight=1.0, epochs=4)
    metrics = train(*synthetic_files, tmp_path / "pairs", config, console=QUIET)
    assert metrics["dev"]["accuracy"] >= 0.95
    assert metrics["config"]["pair_loss_weight"] == 1.0


def test_contrastive_term_on_the_batch_hard_negatives_trains(tmp_path: Path, synthetic_files) -> None:
    config = tiny_config(pair_loss_weight=1.0, pair_negatives="batch", epochs=4)
    metrics = train(*synthetic_files, tmp_path / "batch-pairs", config, console=QUIET)
    assert metrics["dev"]["accuracy"] >= 0.95
    assert metrics["config"]["pair_negatives"] == "batch"


def test_balanced_contrastive_term_trains(tmp_path: Path, synthetic_files, monkeypatch) -> None:
    built = []

    class RecordingContrastiveLoss(ContrastiveLoss):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    monkeypatch.setattr("siamdup.training.loop.ContrastiveLoss", RecordingContrastiveLoss)
    config = tiny_config(pair_loss_weight=1.0, pair_balanced=True, epochs=4)
    metrics = train(*synthetic_files, tmp_path / "balanced", config, console=QUIET)
    assert metrics["dev"]["accuracy"] >= 0.95
    assert [loss.balanced for loss in built] == [True]
    assert metrics["config"]["pair_balanced"] is True


@pytest.mark.skipif(not bf16_supported("cpu"), reason="this CPU has no native bfloat16 arithmetic")
def test_mixed_precision_training_trains_and_saves_float32(tmp_path: Path, synthetic_files) -> None:
    metrics = train(*synthetic_files, tmp_path / "bf16", tiny_config(bf16=True), console=QUIET)
    assert metrics["dev"]["accuracy"] >= 0.95 and metrics["config"]["bf16"] is True
    weights = load_file(str(tmp_path / "bf16" / "model.safetensors"))
    assert {w.dtype for w in weights.values()} == {torch.float32}


def test_bf16_without_native_bfloat16_trains_in_float32_and_says_so(
    tmp_path: Path, synthetic_files, monkeypatch
) -> None:
    """Emulated bfloat16 is many times slower (and oneDNN has no bfloat16 LSTM there): fall back."""
    monkeypatch.setattr("siamdup.training.loop.bf16_supported", lambda device_type: False)
    autocast_states = []
    real_encode = Siamese.encode_ids

    def recording_encode(self, *args, **kwargs):
        autocast_states.append(torch.is_autocast_enabled("cpu"))
        return real_encode(self, *args, **kwargs)

    monkeypatch.setattr(Siamese, "encode_ids", recording_encode)
    console = Console(record=True, width=200, file=io.StringIO())
    metrics = train(*synthetic_files, tmp_path / "fp32", tiny_config(bf16=True), console=console)
    assert "no native bfloat16 arithmetic: training in float32" in console.export_text()
    assert autocast_states and not any(autocast_states)
    assert metrics["dev"]["accuracy"] >= 0.95


def test_embedding_lr_ratio_zero_freezes_the_table_only(tmp_path: Path, synthetic_files) -> None:
    """With a share of 0 the embeddings stay as initialised while the LSTM trains: one epoch and two
    epochs from the same seed end with the same table but different LSTM weights."""
    weights = []
    for epochs in (1, 2):
        config = tiny_config(embedding_lr_ratio=0.0, epochs=epochs, patience=10)
        train(*synthetic_files, tmp_path / str(epochs), config, console=QUIET)
        weights.append(load_file(str(tmp_path / str(epochs) / CHECKPOINT / "model.safetensors")))
    one, two = weights
    assert torch.equal(one["embedding.weight"], two["embedding.weight"])
    assert not torch.allclose(one["lstm.weight_hh_l0"], two["lstm.weight_hh_l0"])


def test_training_with_mined_negatives(tmp_path: Path, synthetic_files) -> None:
    metrics = train(
        *synthetic_files, tmp_path / "mined", tiny_config(mined_negatives=True, epochs=4), console=QUIET
    )
    assert metrics["dev"]["accuracy"] >= 0.95


def test_skipped_rows_are_recorded_and_the_run_saved(tmp_path: Path, synthetic_files) -> None:
    """Real files have bad rows: each is counted in metrics.json, and saving the run still works."""
    train_file, dev_file = tmp_path / "train.tsv", tmp_path / "dev.tsv"
    train_file.write_text(synthetic_files[0].read_text() + "9\tA?\tB?\t1\n1\t \tB?\t2\n")
    dev_file.write_text(synthetic_files[1].read_text() + "1\tA?\n")
    metrics = train(train_file, dev_file, tmp_path / "m", tiny_config(epochs=1), console=QUIET)
    assert metrics["data"]["train"]["skipped"] == {"bad label": 1, "empty text": 1}
    assert metrics["data"]["dev"]["skipped"] == {"missing field": 1}
    assert (tmp_path / "m" / CHECKPOINT / "trainer_state.json").exists()
    saved = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert saved["data"]["train"]["n_rows"] == saved["data"]["train"]["n_kept"] + 2


def test_a_busy_machine_trains_the_same_model(tmp_path: Path, synthetic_files, monkeypatch) -> None:
    """The time budget must not steer a run that fits it: a run whose clock goes 300 times slower (a
    loaded machine) ends with the very same weights."""
    config = tiny_config(epochs=2)
    weights = []
    for name, seconds_per_reading in (("idle", 0.01), ("busy", 3.0)):
        clock = itertools.count(0.0, seconds_per_reading)
        monkeypatch.setattr(time, "perf_counter", lambda clock=clock: next(clock))
        train(*synthetic_files, tmp_path / name, config, console=QUIET)
        weights.append(load_file(str(tmp_path / name / CHECKPOINT / "model.safetensors")))
    idle, busy = weights
    assert idle.keys() == busy.keys()
    for k in idle:
        assert torch.equal(idle[k], busy[k]), k
