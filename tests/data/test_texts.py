import gzip
import json
from pathlib import Path

import pytest

from siamdup.data.readers import DataError
from siamdup.data.texts import read_texts


def test_csv_with_id_column_and_skips_counted(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('qid,text\n7,"How do I learn Python, fast?"\n8,\n7,repeated id\n9,  What is AI?  \n')
    ids, texts, report = read_texts(path, id_column="qid")
    assert ids == ["7", "9"]
    assert texts == ["How do I learn Python, fast?", "What is AI?"]
    assert report.n_rows == 4 and report.n_kept == 2
    assert report.skipped == {"empty text": 1, "duplicate id": 1}
    assert "2 questions kept" in report.summary()


def test_plain_lines_are_numbered_from_one(tmp_path: Path) -> None:
    path = tmp_path / "q.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("first question?\n\nthird question?\n")
    ids, texts, report = read_texts(path)
    assert (ids, texts) == (["1", "3"], ["first question?", "third question?"])
    assert report.skipped == {"empty text": 1}


def test_jsonl_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    lines = [
        json.dumps({"id": 1, "question": "ok?"}),
        "{not json",
        json.dumps({"id": 2}),
        json.dumps({"id": 3, "question": ["a", "list"]}),
        json.dumps({"question": "no id"}),
        json.dumps({"id": 4, "question": "fine too"}),
    ]
    path.write_text("\n".join(lines) + "\n")
    ids, texts, report = read_texts(path, text_column="question", id_column="id")
    assert ids == ["1", "4"] and texts == ["ok?", "fine too"]
    assert report.skipped == {"bad json": 2, "missing field": 2}


def test_undecodable_text_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_bytes(b"good one\nbad \xff\xfe bytes\n")
    _, texts, report = read_texts(path)
    assert texts == ["good one"] and report.skipped == {"undecodable": 1}


def test_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        read_texts(tmp_path / "missing.csv")
    table = tmp_path / "q.tsv"
    table.write_text("question\tqid\nhello?\t1\n")
    with pytest.raises(DataError, match=r"missing column 'text' \(columns: 'question', 'qid'\)"):
        read_texts(table)
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n")
    with pytest.raises(DataError, match="no usable question in 2 rows"):
        read_texts(empty)
    with pytest.raises(DataError, match="ids are line numbers"):
        read_texts(empty, id_column="id")


def test_binary_garbage_is_refused_not_indexed(tmp_path: Path) -> None:
    path = tmp_path / "garbage.bin"
    # An executable or an image: NUL bytes, and here and there a run of bytes that looks like a line.
    path.write_bytes((bytes(range(256)) + b"\nlooks like text\n") * 40)
    with pytest.raises(DataError, match="binary data"):
        read_texts(path)


def test_an_empty_file_and_a_blank_first_line(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("")
    with pytest.raises(DataError, match=r"no usable question in 0 rows \(empty file\)"):
        read_texts(path)
    path.write_text("\n\ntext\nHow?\n")
    assert read_texts(path)[1] == ["How?"]


def test_an_overlong_question_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "q.txt"
    path.write_text("How?\n" + "y" * 10_001 + "\n")
    ids, texts, report = read_texts(path)
    assert (ids, texts) == (["1"], ["How?"]) and report.skipped == {"too long": 1}


def test_a_directory_is_not_reported_as_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a regular file"):
        read_texts(tmp_path)
