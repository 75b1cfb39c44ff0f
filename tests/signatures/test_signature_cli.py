import json

from sig_synthetic import write_svc2004_folder
from typer.testing import CliRunner

from siamdup.cli import app

runner = CliRunner()
TINY = ["--steps-per-epoch", "3", "--d-model", "8", "--length", "16"]


def test_train_then_evaluate_on_synthetic_folder(tmp_path):
    data = write_svc2004_folder(tmp_path / "svc", range(1, 7))
    model = tmp_path / "model"
    args = ["signatures", "train", "--data", str(data), "--out", str(model), "--train-writers", "1-4"]
    result = runner.invoke(app, [*args, "--dev-writers", "5-6", "--epochs", "1", "--threads", "1", *TINY])
    assert result.exit_code == 0, result.output
    assert "best epoch 1" in result.output
    metrics = json.loads((model / "metrics.json").read_text())
    assert metrics["train_writers"] == [1, 2, 3, 4] and metrics["dev_writers"] == [5, 6]
    result = runner.invoke(app, [*args, "--dev-writers", "5-6", "--epochs", "1"])
    assert result.exit_code == 2 and "--overwrite" in result.output
    resumed = runner.invoke(
        app,
        [
            "signatures",
            "train",
            "--data",
            str(data),
            "--out",
            str(model),
            "--resume",
            "--epochs",
            "2",
            "--threads",
            "1",
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((model / "metrics.json").read_text())["epochs_run"] == 2
    plot = tmp_path / "det.png"
    result = runner.invoke(
        app, ["signatures", "evaluate", "--model", str(model), "--data", str(data), "--plot", str(plot)]
    )
    assert result.exit_code == 0, result.output
    assert "skilled EER" in result.output and "dtw" in result.output and plot.stat().st_size > 1000
    assert "decision rule (fused) at its τ" in result.output


def test_bad_input_is_a_clear_error(tmp_path):
    result = runner.invoke(
        app, ["signatures", "train", "--data", str(tmp_path), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2 and "no SVC2004 data" in result.output
    result = runner.invoke(
        app,
        [
            "signatures",
            "train",
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "m"),
            "--train-writers",
            "1-5",
            "--dev-writers",
            "5-6",
        ],
    )
    assert result.exit_code == 2 and "in both" in result.output
    result = runner.invoke(
        app, ["signatures", "evaluate", "--model", str(tmp_path / "none"), "--data", str(tmp_path)]
    )
    assert result.exit_code == 2 and "no signature model" in result.output
