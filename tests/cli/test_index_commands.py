import csv
import json
from pathlib import Path

import pytest
from helpers import FORUM_QUESTIONS
from typer.testing import CliRunner

from siamdup.cli import app

runner = CliRunner()


def run(*args: object):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def questions_csv(tmp_path: Path) -> Path:
    path = tmp_path / "questions.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["qid", "text"])
        writer.writerows(FORUM_QUESTIONS.items())
        writer.writerow(["empty", ""])
    return path


def query(index: Path, question: str, k: int = 3) -> list[dict]:
    result = run("index", "query", "--index", index, "-k", k, "--json", question)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.splitlines()[0])["matches"]


def test_build_query_add_remove_info(questions_csv: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    built = run("index", "build", "--input", questions_csv, "--id-column", "qid", "--out", index)
    assert built.exit_code == 0, built.output
    assert (
        "1 skipped (1 empty text)" in built.output
        and f"indexed {len(FORUM_QUESTIONS)} questions" in built.output
    )

    matches = query(index, "How do I learn Python?")
    assert matches[0]["id"] == "py" and matches[0]["duplicate"] is True and len(matches) == 3

    new = tmp_path / "new.txt"
    new.write_text("How do I make green tea?\n")
    added = run("index", "add", "--index", index, "--input", new)
    assert added.exit_code == 0, added.output
    assert query(index, "What is the best way to make green tea?", k=1)[0]["id"] == "1"  # line number

    again = run("index", "add", "--index", index, "--input", new)
    assert (
        again.exit_code == 2 and "already stored: '1'" in again.output and "nothing was added" in again.output
    )

    removed = run("index", "remove", "--index", index, "py", "1")
    assert removed.exit_code == 0, removed.output
    assert "py" not in {m["id"] for m in query(index, "How do I learn Python?", k=50)}
    unknown = run("index", "remove", "--index", index, "nope")
    assert unknown.exit_code == 2 and "not in the index: 'nope'" in unknown.output

    info = run("index", "info", "--index", index)
    assert info.exit_code == 0
    assert json.loads(info.stdout)["questions"] == len(FORUM_QUESTIONS) - 1

    table = run("index", "query", "--index", index, "How can I lose weight fast?")
    assert table.exit_code == 0 and "How can I lose weight fast?" in table.stdout and "yes" in table.stdout


def test_build_refuses_to_overwrite_and_reports_bad_input(questions_csv: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    assert (
        run("index", "build", "--input", questions_csv, "--out", index, "--id-column", "qid").exit_code == 0
    )
    refused = run("index", "build", "--input", questions_csv, "--out", index)
    assert refused.exit_code == 2 and "already holds an index" in refused.output
    assert len(query(index, "anything", k=50)) == len(FORUM_QUESTIONS)  # untouched
    missing = run(
        "index", "build", "--input", questions_csv, "--out", tmp_path / "b", "--text-column", "body"
    )
    assert missing.exit_code == 2 and "missing column 'body'" in missing.output
    bad_kind = run("index", "build", "--input", questions_csv, "--out", tmp_path / "c", "--kind", "ivf")
    assert bad_kind.exit_code == 2 and "--kind must be one of" in bad_kind.output
    not_index = run("index", "query", "--index", tmp_path, "hello?")
    assert not_index.exit_code == 2 and "not a siamdup index" in not_index.output


def test_index_from_another_model_is_refused(
    questions_csv: Path, tiny_model_dir: Path, tmp_path: Path
) -> None:
    index = tmp_path / "ix"
    assert run("index", "build", "--input", questions_csv, "--out", index).exit_code == 0
    result = run("index", "query", "--index", index, "--model", tiny_model_dir, "hello?")
    assert result.exit_code == 2 and "built with another model" in result.output


def test_dedupe_writes_groups(tmp_path: Path) -> None:
    source = tmp_path / "corpus.txt"
    source.write_text(
        "How do I learn Python?\nHow do I cook rice?\nWhat is the best way to learn Python?\n"
        "How do I learn python?\nWhere can I buy cheap flights?\n"
    )
    out = tmp_path / "groups.csv"
    result = run("dedupe", "--input", source, "--out", out)
    assert result.exit_code == 0, result.output
    assert "1 groups holding 3 of 5 questions" in result.output
    rows = list(csv.DictReader(out.open()))
    # the centre first, then its duplicates by similarity: the case variant is identical to it
    assert [(r["group"], r["size"], r["id"], r["similarity"]) for r in rows][:2] == [
        ("1", "3", "1", "1.0000"),
        ("1", "3", "4", "1.0000"),
    ]
    assert rows[2]["id"] == "3" and 0 < float(rows[2]["similarity"]) < 1
    strict = run("dedupe", "--input", source, "--out", out, "--threshold", "0.99")
    assert strict.exit_code == 0 and "1 groups holding 2 of 5" in strict.output  # only the case variant


def test_build_names_the_missing_parent_folders_it_creates(questions_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "ix"
    built = run("index", "build", "--input", questions_csv, "--out", out)
    assert built.exit_code == 0, built.output
    assert f"created the missing folder {tmp_path / 'new'}" in built.output
    assert (out / "manifest.json").is_file()
    into_existing = run("index", "build", "--input", questions_csv, "--out", tmp_path / "ix2")
    assert into_existing.exit_code == 0 and "created the missing folder" not in into_existing.output
