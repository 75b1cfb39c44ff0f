"""`siamdup dedupe` with compressed search, an embeddings folder as input, and the Ray engine."""

import csv
import sys
from pathlib import Path

import pytest
from helpers import FORUM_QUESTIONS
from typer.testing import CliRunner

from siamdup.cli import app

runner = CliRunner()
REWORDED = [
    "What is the easiest way to learn Python?",
    "How should I cook rice?",
    "How do I lose weight quickly?",
    "Which city is the capital of France?",
]


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "q.csv"
    rows = [*FORUM_QUESTIONS.items(), *((f"r{i}", t) for i, t in enumerate(REWORDED))]
    path.write_text("qid,text\n" + "".join(f"{k},{v}\n" for k, v in rows))
    return path


def groups(path: Path) -> list[list[str]]:
    found: dict[str, list[str]] = {}
    for row in csv.DictReader(path.open()):
        found.setdefault(row["group"], []).append(row["id"])
    return list(found.values())


def dedupe(questions: Path, out: Path, *options: object) -> list[list[str]]:
    result = run("dedupe", "--input", questions, "--id-column", "qid", "--out", out, *options)
    assert result.exit_code == 0, result.output
    return groups(out)


def test_compressed_dedupe_and_an_embeddings_folder_find_the_exact_groups(
    questions: Path, tmp_path: Path
) -> None:
    exact = dedupe(questions, tmp_path / "exact.csv", "--kind", "exact")
    assert len(exact) >= 3
    assert (
        dedupe(questions, tmp_path / "sq8.csv", "--compress", "sq8", "--embeddings", tmp_path / "emb")
        == exact
    )
    assert (tmp_path / "emb" / "manifest.json").is_file()
    assert dedupe(tmp_path / "emb", tmp_path / "folder.csv") == exact
    assert groups(tmp_path / "folder.csv") == exact


def test_ray_engine_finds_the_exact_groups(questions: Path, tmp_path: Path, ray_cluster) -> None:
    exact = dedupe(questions, tmp_path / "exact.csv", "--kind", "exact")
    assert (
        dedupe(questions, tmp_path / "ray.csv", "--engine", "ray", "--workers", "1", "--nprobe", "64")
        == exact
    )


def test_bad_options_and_a_missing_extra_are_clear(questions: Path, tmp_path: Path, monkeypatch) -> None:
    bad = run("dedupe", "--input", questions, "--out", tmp_path / "g.csv", "--compress", "zip")
    assert bad.exit_code == 2 and "--compress must be one of none, sq8, pq" in bad.output
    monkeypatch.setitem(sys.modules, "ray", None)
    no_ray = run(
        "dedupe", "--input", questions, "--id-column", "qid", "--out", tmp_path / "g.csv", "--engine", "ray"
    )
    assert no_ray.exit_code == 2 and 'pip install "siamdup[ray]"' in no_ray.output
    assert "Traceback" not in no_ray.output and not (tmp_path / "g.csv").exists()
    unfinished = tmp_path / "emb"
    unfinished.mkdir()
    (unfinished / "manifest.json").write_text("{}")
    broken = run("dedupe", "--input", unfinished, "--out", tmp_path / "g.csv")
    assert broken.exit_code == 2 and "manifest.json" in broken.output
