"""Tests for siamdup.data.readers."""

import collections
import gzip
import json
from pathlib import Path

import pytest

from siamdup.data.readers import DataError, Pair, ReadReport, read_pairs


def write(directory: Path, name: str, content: str | bytes) -> Path:
    """Write a fixture file (gzip-compressed when the name ends in .gz)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    path = directory / name
    if name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def jsonl(*objects: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


QUORA_TSV = (
    "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\tlabel_kind\n"
    "7\t15\t16\tHow do I learn Python?\tWhat is the best way to learn Python?\t1\texplicit\n"
    '8\t\t\tWhat does "ok" mean?\t  Why is the sky blue?  \t0\timplied_positive\n'
)

KAGGLE_CSV = (
    '"id","qid1","qid2","question1","question2","is_duplicate"\n'
    '"0","1","2","What is 1,000 + 1?","He said ""hi"", then left.\nWhat next?","0"\n'
    '"1","3","4","Why?","Why not?","1"\n'
)

PARTITION_TSV = (
    "1\tHow do I get funding ?\tHow do I get seed funding ?\t327970\n"
    "0\tIs honey a viable alternative ?\tHow would you compare laws ?\t90348\n"
    '1\tWhat is "AI" ?\tWhat does "AI" mean ?\t339556\n'
)


# -- formats -------------------------------------------------------------------------------------


def test_quora_tsv_parses_qids_and_strips_questions(tmp_path: Path) -> None:
    pairs, report = read_pairs(write(tmp_path, "train.tsv", QUORA_TSV))
    assert pairs == [
        Pair("How do I learn Python?", "What is the best way to learn Python?", 1, "15", "16"),
        Pair('What does "ok" mean?', "Why is the sky blue?", 0, None, None),
    ]
    assert report == ReadReport(str(tmp_path / "train.tsv"), "quora", 2, 2, collections.Counter())


def test_kaggle_csv_quoted_comma_quote_and_newline(tmp_path: Path) -> None:
    pairs, report = read_pairs(write(tmp_path, "questions.csv", KAGGLE_CSV))
    assert report.format == "quora"
    assert (report.n_rows, report.n_kept) == (2, 2)
    assert pairs[0] == Pair("What is 1,000 + 1?", 'He said "hi", then left.\nWhat next?', 0, "1", "2")
    assert pairs[1] == Pair("Why?", "Why not?", 1, "3", "4")


def test_partition_format_without_header(tmp_path: Path) -> None:
    pairs, report = read_pairs(write(tmp_path, "dev.tsv", PARTITION_TSV))
    assert report.format == "partition"
    assert [p.label for p in pairs] == [1, 0, 1]
    assert pairs[0] == Pair("How do I get funding ?", "How do I get seed funding ?", 1)
    # QUOTE_NONE: quote characters in TSV are kept as text.
    assert pairs[2].question1 == 'What is "AI" ?'


def test_generic_csv_with_custom_columns(tmp_path: Path) -> None:
    text = 'a,b,dup,x,y\n"Is it, really?",Is it?,1,q1,q2\nOne,Two,0,,\n'
    pairs, report = read_pairs(
        write(tmp_path, "pairs.csv", text), question1="a", question2="b", label="dup", qid1="x", qid2="y"
    )
    assert report.format == "csv"
    assert pairs == [Pair("Is it, really?", "Is it?", 1, "q1", "q2"), Pair("One", "Two", 0, None, None)]


def test_generic_tsv_falls_back_to_label_column(tmp_path: Path) -> None:
    text = 'question1\tquestion2\tlabel\n"Quoted\tstart\t1\nA\tB\t0\n'
    pairs, report = read_pairs(write(tmp_path, "pairs.tsv", text))
    assert report.format == "tsv"
    assert pairs == [Pair('"Quoted', "start", 1), Pair("A", "B", 0)]


def test_generic_csv_uses_qid_columns_when_present(tmp_path: Path) -> None:
    text = "question1,question2,is_duplicate,qid1\nA,B,1,9\n"
    pairs, report = read_pairs(write(tmp_path, "pairs.csv", text))
    assert report.format == "csv"  # no qid2 column, so not the quora layout
    assert pairs == [Pair("A", "B", 1, "9", None)]


def test_jsonl_labels_booleans_ints_and_strings(tmp_path: Path) -> None:
    text = jsonl(
        {"question1": " A ", "question2": "B", "is_duplicate": True, "qid1": 5, "qid2": "6"},
        {"question1": "C", "question2": "D", "is_duplicate": False},
        {"question1": "E", "question2": "F", "is_duplicate": 1},
        {"question1": "G", "question2": "H", "is_duplicate": "0"},
    )
    pairs, report = read_pairs(write(tmp_path, "pairs.jsonl", text))
    assert report.format == "jsonl"
    assert pairs == [
        Pair("A", "B", 1, "5", "6"),
        Pair("C", "D", 0),
        Pair("E", "F", 1),
        Pair("G", "H", 0),
    ]


def test_jsonl_custom_keys_and_label_fallback(tmp_path: Path) -> None:
    text = jsonl({"s1": "A", "s2": "B", "label": 1}, {"s1": "C", "s2": "D", "label": 0})
    pairs, _ = read_pairs(write(tmp_path, "pairs.json", text), question1="s1", question2="s2")
    assert pairs == [Pair("A", "B", 1), Pair("C", "D", 0)]


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("train.tsv.gz", QUORA_TSV, "quora"),
        ("kaggle.csv.gz", KAGGLE_CSV, "quora"),
        ("dev.tsv.gz", PARTITION_TSV, "partition"),
        ("pairs.jsonl.gz", jsonl({"question1": "A", "question2": "B", "is_duplicate": 1}), "jsonl"),
        ("pairs.csv.gz", "question1,question2,is_duplicate\nA,B,1\n", "csv"),
        ("pairs.tsv.gz", "question1\tquestion2\tis_duplicate\nA\tB\t1\n", "tsv"),
    ],
)
def test_gzip_is_read_transparently(tmp_path: Path, name: str, content: str, fmt: str) -> None:
    plain_pairs, _ = read_pairs(write(tmp_path, name.removesuffix(".gz"), content))
    pairs, report = read_pairs(write(tmp_path, name, content))
    assert report.format == fmt
    assert pairs == plain_pairs
    assert len(pairs) >= 1


# -- auto-detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "fmt"),
    [
        ("a.tsv", QUORA_TSV, "quora"),
        ("a.txt", QUORA_TSV, "quora"),
        ("a.csv", KAGGLE_CSV, "quora"),
        ("a.tsv", PARTITION_TSV, "partition"),
        ("a.txt", PARTITION_TSV, "partition"),
        ("a.TSV", "\n" + PARTITION_TSV, "partition"),
        ("a.tsv", "question1\tquestion2\tis_duplicate\nA\tB\t1\n", "tsv"),
        ("a.txt", "question1\tquestion2\tis_duplicate\nA\tB\t1\n", "tsv"),
        ("a.txt", "question1,question2,is_duplicate\nA,B,1\n", "csv"),
        ("a.csv", "question1,question2,is_duplicate\nA,B,1\n", "csv"),
        ("a.jsonl", jsonl({"question1": "A", "question2": "B", "is_duplicate": 0}), "jsonl"),
        ("a.json", jsonl({"question1": "A", "question2": "B", "is_duplicate": 0}), "jsonl"),
    ],
)
def test_auto_detection(tmp_path: Path, name: str, content: str, fmt: str) -> None:
    _, report = read_pairs(write(tmp_path, name, content))
    assert report.format == fmt


def test_explicit_format_overrides_extension(tmp_path: Path) -> None:
    pairs, report = read_pairs(write(tmp_path, "dev.data", PARTITION_TSV), format="partition")
    assert report.format == "partition"
    assert len(pairs) == 3


def test_auto_with_unknown_extension_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cannot detect the format.*'\.data'"):
        read_pairs(write(tmp_path, "dev.data", PARTITION_TSV))


def test_unknown_format_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="unknown format 'parquet'"):
        read_pairs(write(tmp_path, "dev.tsv", PARTITION_TSV), format="parquet")


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.tsv"
    with pytest.raises(DataError, match=r"nope\.tsv: file not found") as excinfo:
        read_pairs(missing)
    assert str(missing) in str(excinfo.value)


# -- skipping --------------------------------------------------------------------------------------


def test_every_tabular_skip_reason_is_counted(tmp_path: Path) -> None:
    text = (
        "question1\tquestion2\tis_duplicate\n"
        "good one\tgood two\t1\n"
        "\n"  # blank: ignored, not a row
        "only one field\n"  # missing field
        "no label\tcell\n"  # missing field (label cell absent)
        "empty label\tcell\t\n"  # missing field (label required)
        "\tsecond\t0\n"  # empty text
        "first\t   \t0\n"  # empty text (whitespace only)
        "bad\tlabel\t2\n"  # bad label
        "bad\tlabel\tyes\n"  # bad label
        "bad\tlabel\t1.0\n"  # bad label
        "good three\tgood four\t 0 \n"
        "   \n"  # blank
    )
    pairs, report = read_pairs(write(tmp_path, "mixed.tsv", text))
    assert pairs == [Pair("good one", "good two", 1), Pair("good three", "good four", 0)]
    assert report.skipped == collections.Counter({"missing field": 3, "empty text": 2, "bad label": 3})
    assert (report.n_rows, report.n_kept) == (10, 2)


def test_every_jsonl_skip_reason_is_counted(tmp_path: Path) -> None:
    lines = [
        json.dumps({"question1": "A", "question2": "B", "is_duplicate": 1}),
        "",
        "{not json",  # bad json
        "[1, 2, 3]",  # bad json: not an object
        json.dumps({"question1": ["a list"], "question2": "B", "is_duplicate": 1}),  # bad json
        json.dumps({"question1": "A", "is_duplicate": 1}),  # missing field
        json.dumps({"question1": "A", "question2": None, "is_duplicate": 1}),  # missing field
        json.dumps({"question1": "A", "question2": "B"}),  # missing field (label)
        json.dumps({"question1": " ", "question2": "B", "is_duplicate": 0}),  # empty text
        json.dumps({"question1": "A", "question2": "B", "is_duplicate": 3}),  # bad label
        json.dumps({"question1": "A", "question2": "B", "is_duplicate": 1.0}),  # bad label
        json.dumps({"question1": "C", "question2": "D", "is_duplicate": 0}),
    ]
    pairs, report = read_pairs(write(tmp_path, "mixed.jsonl", "\n".join(lines) + "\n"))
    assert pairs == [Pair("A", "B", 1), Pair("C", "D", 0)]
    assert report.skipped == collections.Counter(
        {"bad json": 3, "missing field": 3, "empty text": 1, "bad label": 2}
    )
    assert (report.n_rows, report.n_kept) == (11, 2)


def test_partition_skip_reasons(tmp_path: Path) -> None:
    text = PARTITION_TSV + "1\tonly a question\n" + "x\tA\tB\t1\n" + "0\t\tB\t2\n"
    pairs, report = read_pairs(write(tmp_path, "dev.tsv", text))
    assert len(pairs) == 3
    assert report.skipped == collections.Counter({"missing field": 1, "bad label": 1, "empty text": 1})
    assert report.n_rows == 6


@pytest.mark.parametrize("name", ["bytes.tsv", "bytes.tsv.gz"])
def test_undecodable_bytes_skip_only_that_row(tmp_path: Path, name: str) -> None:
    content = (
        b"id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
        b"1\t1\t2\tCaf\xc3\xa9 au lait?\tWhat is coffee?\t0\n"
        b"2\t3\t4\tBroken \xff\xfe text\tOther question\t1\n"
        b"3\t5\t6\tStill fine?\tYes \xe2\x80\x94 fine\t1\n"
    )
    pairs, report = read_pairs(write(tmp_path, name, content))
    assert pairs == [
        Pair("Café au lait?", "What is coffee?", 0, "1", "2"),
        Pair("Still fine?", "Yes \u2014 fine", 1, "5", "6"),
    ]
    assert report.skipped == collections.Counter({"undecodable": 1})
    assert (report.n_rows, report.n_kept) == (3, 2)


def test_undecodable_bytes_in_jsonl(tmp_path: Path) -> None:
    content = (
        b'{"question1": "A", "question2": "B\xff", "is_duplicate": 1}\n'
        b'{"question1": "C", "question2": "D", "is_duplicate": 0}\n'
    )
    pairs, report = read_pairs(write(tmp_path, "bytes.jsonl", content))
    assert pairs == [Pair("C", "D", 0)]
    assert report.skipped == collections.Counter({"undecodable": 1})


def test_no_usable_row_is_an_error(tmp_path: Path) -> None:
    text = "question1,question2,is_duplicate\n,B,1\nA,B,maybe\n ,x,0\n"
    with pytest.raises(DataError, match=r"no usable question pair in 3 rows \(2 empty text, 1 bad label\)"):
        read_pairs(write(tmp_path, "bad.csv", text))


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no usable question pair in 0 rows \(empty file\)"):
        read_pairs(write(tmp_path, "empty.csv", ""))


def test_missing_column_names_existing_columns(tmp_path: Path) -> None:
    text = "q1,question2,is_duplicate\nA,B,1\n"
    with pytest.raises(
        DataError, match=r"missing column 'question1' \(columns: 'q1', 'question2', 'is_duplicate'\)"
    ):
        read_pairs(write(tmp_path, "cols.csv", text))


def test_missing_label_column_is_an_error_when_required(tmp_path: Path) -> None:
    text = "question1,question2\nA,B\n"
    with pytest.raises(DataError, match=r"missing column .*is_duplicate.*label.*require_label=False"):
        read_pairs(write(tmp_path, "cols.csv", text))


def test_explicit_label_column_must_exist(tmp_path: Path) -> None:
    text = "question1,question2,is_duplicate\nA,B,1\n"
    with pytest.raises(DataError, match="missing column 'gold'"):
        read_pairs(write(tmp_path, "cols.csv", text), label="gold", require_label=False)


def test_quora_format_requires_qid_columns(tmp_path: Path) -> None:
    text = "question1\tquestion2\tis_duplicate\nA\tB\t1\n"
    with pytest.raises(DataError, match="missing column 'qid1'"):
        read_pairs(write(tmp_path, "q.tsv", text), format="quora")


def test_jsonl_key_absent_from_every_object_is_a_missing_column(tmp_path: Path) -> None:
    text = jsonl({"text1": "A", "question2": "B", "is_duplicate": 1})
    with pytest.raises(
        DataError, match=r"missing column 'question1' \(columns: 'is_duplicate', 'question2', 'text1'\)"
    ):
        read_pairs(write(tmp_path, "cols.jsonl", text))


# -- unlabelled data ---------------------------------------------------------------------------


def test_require_label_false_without_label_column(tmp_path: Path) -> None:
    text = "question1,question2\nA,B\n C , D \n"
    pairs, report = read_pairs(write(tmp_path, "unlabelled.csv", text), require_label=False)
    assert pairs == [Pair("A", "B", None), Pair("C", "D", None)]
    assert report.format == "csv"
    assert report.skipped == collections.Counter()


def test_require_label_false_keeps_empty_labels_but_rejects_bad_ones(tmp_path: Path) -> None:
    text = "question1\tquestion2\tis_duplicate\nA\tB\t\nC\tD\t1\nE\tF\tx\nG\tH\n"
    pairs, report = read_pairs(write(tmp_path, "partly.tsv", text), require_label=False)
    assert pairs == [Pair("A", "B", None), Pair("C", "D", 1), Pair("G", "H", None)]
    assert report.skipped == collections.Counter({"bad label": 1})


def test_require_label_false_jsonl_without_labels(tmp_path: Path) -> None:
    text = jsonl({"question1": "A", "question2": "B"}, {"question1": "C", "question2": "D", "qid1": 3})
    pairs, _ = read_pairs(write(tmp_path, "u.jsonl", text), require_label=False)
    assert pairs == [Pair("A", "B", None), Pair("C", "D", None, "3", None)]


# -- summary -------------------------------------------------------------------------------------


def test_summary_lists_skips_by_count(tmp_path: Path) -> None:
    text = (
        "question1,question2,is_duplicate\n"
        + "A,B,1\n" * 1200
        + ",B,1\n"  # empty text
        + "A,B,7\n"  # bad label
        + "A,B,8\n"  # bad label
    )
    _, report = read_pairs(write(tmp_path, "dev.csv", text))
    assert report.summary() == "dev.csv: 1,203 rows, 1,200 pairs kept, 3 skipped (2 bad label, 1 empty text)"


def test_summary_without_skips() -> None:
    report = ReadReport("/data/x/dev.tsv", "partition", 10_000, 10_000, collections.Counter())
    assert report.summary() == "dev.tsv: 10,000 rows, 10,000 pairs kept, 0 skipped"


def test_summary_matches_documented_example() -> None:
    report = ReadReport(
        "dev.tsv", "tsv", 10_000, 9_998, collections.Counter({"bad label": 1, "empty text": 1})
    )
    assert report.summary() == "dev.tsv: 10,000 rows, 9,998 pairs kept, 2 skipped (1 empty text, 1 bad label)"


# -- real data -----------------------------------------------------------------------------------


def test_real_qqp_files(qqp_dir: Path) -> None:
    train, train_report = read_pairs(qqp_dir / "train.tsv.gz")
    assert train_report.format == "quora"
    assert (train_report.n_rows, len(train)) == (143_617, 143_617)
    assert sum(p.label == 1 for p in train) == 114_739
    assert sum(p.label == 0 for p in train) == 28_878

    dev, dev_report = read_pairs(qqp_dir / "dev.tsv")
    assert dev_report.format == "partition"
    assert len(dev) == 10_000
    assert sum(p.label == 1 for p in dev) == 5_000
    assert sum(p.label == 0 for p in dev) == 5_000


# -- files that are not text, and messages that quote them ----------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 8 + b"\nHow?\tWhy?\t1\n" * 20, "binary data"),
        ("question1,question2,label\nHow?,Why?,1\n".encode("utf-16"), "UTF-16"),
        (("question1,question2,label\n" + "é,à,1\n" * 50).encode("latin-1"), "not UTF-8 text"),
    ],
    ids=["nul-bytes", "utf-16", "latin-1"],
)
def test_files_that_are_not_utf8_text_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = write(tmp_path, "pairs.csv", content)
    with pytest.raises(DataError, match=message):
        read_pairs(path)


def test_a_gz_name_on_a_file_that_is_not_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pairs.tsv.gz"
    path.write_text(PARTITION_TSV)
    with pytest.raises(DataError, match=r"not a gzip file, though its name ends in \.gz"):
        read_pairs(path)
    path.write_bytes(gzip.compress(PARTITION_TSV.encode() * 50)[:100])
    with pytest.raises(DataError, match="damaged gzip file"):
        read_pairs(path)


def test_a_long_question_or_a_nul_byte_skips_only_that_row(tmp_path: Path) -> None:
    body = "How?\tWhy?\t1\n" * 10_000  # past the first block that is checked for binary data
    content = "question1\tquestion2\tlabel\n" + body + "y" * 10_001 + "\tWhy?\t0\n" + "a\0b?\tWhy?\t1\n"
    pairs, report = read_pairs(write(tmp_path, "pairs.tsv", content))
    assert len(pairs) == 10_000
    assert report.skipped == collections.Counter({"too long": 1, "undecodable": 1})


def test_a_ten_megabyte_header_is_quoted_briefly(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing column 'question1'") as info:
        read_pairs(write(tmp_path, "pairs.csv", "x" * 10_000_000))
    assert len(str(info.value)) < 300 + len(str(tmp_path))
    many = ",".join(f"c{i}" for i in range(100))
    with pytest.raises(DataError, match="… 88 more"):
        read_pairs(write(tmp_path, "wide.csv", many + "\n"))


def test_missing_label_names_both_accepted_columns(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing column 'is_duplicate' or 'label' "):
        read_pairs(write(tmp_path, "pairs.csv", "question1,question2\na?,b?\n"))


def test_a_header_in_one_column_hints_at_the_delimiter(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="separated by semicolons"):
        read_pairs(write(tmp_path, "pairs.csv", "question1;question2;label\na?;b?;1\n"))
