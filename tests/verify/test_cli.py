"""`--verify` on predict, evaluate and index query, `siamdup verify export`, and the message when the extra is
missing. The verifier is the untrained tiny one: the commands must pass on exactly what it says."""

import csv
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import FORUM_QUESTIONS
from typer.testing import CliRunner
from verifier_samples import one_thread

from siamdup.cli import app
from siamdup.data.readers import read_pairs
from siamdup.verify import Verifier

runner = CliRunner()
PAIR = ("How old are you?", "What is your age?")


def run(*args: object):
    with one_thread():
        return runner.invoke(app, [str(a) for a in args])


def test_predict_verify_prints_both_scores_and_the_verifiers_decision(random_verifier_dir: Path) -> None:
    result = run("predict", "--json", "--verify", "--verifier", random_verifier_dir, *PAIR)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    verifier = Verifier.load(random_verifier_dir)
    expected = float(verifier.score([PAIR[0]], [PAIR[1]])[0])
    assert answer["verification"] == pytest.approx(expected, abs=1e-6)
    assert answer["duplicate"] == (expected > 0.45) and answer["verifier_threshold"] == 0.45
    assert -1 <= answer["similarity"] <= 1 and "threshold" in answer
    text = run("predict", "--verify", "--verifier", random_verifier_dir, *PAIR)
    assert text.exit_code == 0 and "verifier P(duplicate)" in text.stdout


def test_predict_pairs_verify_adds_a_column(
    random_verifier_dir: Path, verifier_files, tmp_path: Path
) -> None:
    scored = tmp_path / "scored.csv"
    args = (
        "predict",
        "--pairs",
        verifier_files[1],
        "--out",
        scored,
        "--verify",
        "--verifier",
        random_verifier_dir,
    )
    result = run(*args)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(scored.open()))
    pairs = read_pairs(verifier_files[1])[0]
    expected = Verifier.load(random_verifier_dir).score(
        [p.question1 for p in pairs], [p.question2 for p in pairs]
    )
    assert np.allclose([float(r["verification"]) for r in rows], expected, atol=1e-6)
    assert [int(r["duplicate"]) for r in rows] == [int(p > 0.45) for p in expected]


def test_evaluate_verify_reports_the_verifier(random_verifier_dir: Path, verifier_files) -> None:
    result = run(
        "evaluate", "--data", verifier_files[1], "--json", "--verify", "--verifier", random_verifier_dir
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    pairs = read_pairs(verifier_files[1])[0]
    scores = Verifier.load(random_verifier_dir).score(
        [p.question1 for p in pairs], [p.question2 for p in pairs]
    )
    labels = np.array([p.label for p in pairs])
    assert report["threshold"] == 0.45
    assert report["accuracy"] == pytest.approx(np.mean((scores > 0.45) == labels))
    assert 0 <= report["ece"] <= 1 and sum(b["pairs"] for b in report["reliability"]) == len(pairs)
    table = run("evaluate", "--data", verifier_files[1], "--verify", "--verifier", random_verifier_dir)
    assert table.exit_code == 0 and "expected calibration error" in table.stdout


def test_index_query_verify(random_verifier_dir: Path, tmp_path: Path) -> None:
    questions = tmp_path / "questions.csv"
    questions.write_text("qid,text\n" + "".join(f"{k},{v}\n" for k, v in FORUM_QUESTIONS.items()))
    index = tmp_path / "index"
    assert run("index", "build", "--input", questions, "--id-column", "qid", "--out", index).exit_code == 0
    asked = "How do I learn Python?"
    result = run(
        "index",
        "query",
        "--index",
        index,
        "-k",
        3,
        "--json",
        "--verify",
        "--verifier",
        random_verifier_dir,
        asked,
    )
    assert result.exit_code == 0, result.output
    matches = json.loads(result.stdout)["matches"]
    plain = json.loads(run("index", "query", "--index", index, "-k", 3, "--json", asked).stdout)["matches"]
    assert {m["id"] for m in matches} == {m["id"] for m in plain}
    expected = Verifier.load(random_verifier_dir).score([asked] * 3, [m["text"] for m in matches])
    assert np.allclose([m["verification"] for m in matches], expected, atol=1e-6)
    table = run("index", "query", "--index", index, "--verify", "--verifier", random_verifier_dir, asked)
    assert table.exit_code == 0 and "verification" in table.stdout


def test_verify_export_then_commands_run_on_onnx(random_verifier_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    folder = tmp_path / "verifier"
    shutil.copytree(random_verifier_dir, folder)
    result = run("verify", "export", "--verifier", folder)
    assert result.exit_code == 0 and (folder / "model.onnx").exists(), result.output
    answer = json.loads(run("predict", "--json", "--verify", "--verifier", folder, *PAIR).stdout)
    torch_score = Verifier.load(folder).score([PAIR[0]], [PAIR[1]])[0]
    assert answer["verification"] == pytest.approx(torch_score, abs=1e-4)


def test_verify_needs_a_verifier_and_names_a_bad_one(tmp_path: Path) -> None:
    result = run("predict", "--verify", *PAIR)
    assert result.exit_code == 2 and "--verify needs --verifier DIR" in result.output
    result = run("predict", "--verify", "--verifier", tmp_path / "nowhere", *PAIR)
    assert result.exit_code == 2 and "no verifier directory" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("hidden", ["transformers", "onnxruntime"])
def test_a_missing_extra_is_named(
    hidden: str, random_verifier_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "verifier"
    shutil.copytree(random_verifier_dir, folder)
    monkeypatch.setitem(sys.modules, hidden, None)  # as if it were not installed
    if hidden == "transformers":
        result = run("predict", "--verify", "--verifier", folder, *PAIR)
    else:
        result = run("verify", "export", "--verifier", folder)
    assert result.exit_code == 2, result.output
    assert 'pip install "siamdup[verify]"' in result.output and "Traceback" not in result.output
