"""Read labelled (or unlabelled) question pairs from Quora-style files.

Supported formats: the Quora release TSV / Kaggle CSV ("quora"), the header-less standard-partition
TSV ("partition"), and generic "csv", "tsv" and "jsonl" files with configurable column names.
Malformed rows are skipped and counted by reason in a :class:`ReadReport`; only problems that make the
whole file unusable raise :class:`DataError`.
"""

from __future__ import annotations

import collections
import csv
import json
import os
import re
import zlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from siamdup.data.files import DataError, check_text_file, excerpt
from siamdup.data.files import open_text as _open_text

__all__ = ["FORMATS", "REASONS", "DataError", "Pair", "ReadReport", "read_pairs"]

FORMATS: tuple[str, ...] = ("quora", "partition", "csv", "tsv", "jsonl")
REASONS: tuple[str, ...] = (
    "missing field",
    "empty text",
    "bad label",
    "undecodable",
    "bad json",
    "too long",
)
# A question is a sentence or two; a longer "question" is a file read with the wrong delimiter or format.
MAX_TEXT_CHARS = 10_000

# Bytes that are not valid UTF-8 come back as lone surrogates U+DC80..U+DCFF under errors="surrogateescape";
# a NUL byte is never text either.
_SURROGATE = re.compile("[\udc80-\udcff\x00]")
_QUORA_COLUMNS = ("qid1", "qid2", "question1", "question2", "is_duplicate")
_MISSING: Any = object()  # a field absent from the row, as opposed to present but empty
_BAD: Any = object()  # a JSON value of a type that cannot be a question or id (list, object, boolean)


@dataclass(frozen=True)
class Pair:
    """One question pair; ``label`` is 1 (duplicate), 0 (not) or None (unlabelled)."""

    question1: str
    question2: str
    label: int | None
    qid1: str | None = None
    qid2: str | None = None


@dataclass
class ReadReport:
    """What :func:`read_pairs` saw in one file: rows, pairs kept, and skipped rows by reason."""

    path: str
    format: str
    n_rows: int
    n_kept: int
    skipped: collections.Counter[str] = field(default_factory=collections.Counter)
    unit: str = "pair"  # what a kept row is: a question pair, or one question for an index

    @property
    def n_skipped(self) -> int:
        """Total number of skipped rows."""
        return sum(self.skipped.values())

    def summary(self) -> str:
        """One line: ``dev.tsv: 10,000 rows, 9,998 pairs kept, 2 skipped (1 empty text, 1 bad label)``."""
        rows = _plural(self.n_rows, "row")
        kept = _plural(self.n_kept, self.unit)
        line = f"{Path(self.path).name}: {rows}, {kept} kept, {self.n_skipped:,} skipped"
        if self.n_skipped:
            line += f" ({_reasons_text(self.skipped)})"
        return line


def read_pairs(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    question1: str | None = None,
    question2: str | None = None,
    label: str | None = None,
    qid1: str | None = None,
    qid2: str | None = None,
    require_label: bool = True,
) -> tuple[list[Pair], ReadReport]:
    """Read question pairs from ``path`` (``.gz`` read transparently), skipping malformed rows.

    ``format`` is "auto" or one of :data:`FORMATS`. The column options name the columns of csv, tsv,
    jsonl and quora files (defaults: question1, question2, is_duplicate or else label, qid1, qid2);
    the header-less partition format ignores them. With ``require_label=False`` a missing or empty
    label gives ``label=None``. Raises :class:`DataError` when the file is missing, the format is
    unknown, a required column is absent, or no row yields a usable pair.
    """
    path_str = os.fspath(path)
    if not os.path.exists(path_str):
        raise DataError(f"{path_str}: file not found")
    if not os.path.isfile(path_str):
        raise DataError(f"{path_str}: not a regular file")
    check_text_file(path_str)
    if format == "auto":
        format = _detect_format(path_str)
    elif format not in FORMATS:
        raise DataError(
            f"{path_str}: unknown format {format!r} (expected 'auto' or one of {', '.join(FORMATS)})"
        )

    columns = _Columns(question1, question2, label, qid1, qid2)
    report = ReadReport(path=path_str, format=format, n_rows=0, n_kept=0)
    pairs: list[Pair] = []
    try:
        if format == "jsonl":
            rows = _jsonl_rows(path_str, columns, require_label)
        elif format == "partition":
            rows = _partition_rows(path_str, require_label)
        else:
            rows = _header_rows(path_str, format, columns, require_label)
        for result in rows:
            report.n_rows += 1
            if isinstance(result, Pair):
                pairs.append(result)
            else:
                report.skipped[result] += 1
    except (OSError, EOFError, zlib.error, csv.Error) as exc:
        raise _read_error(path_str, format, exc) from exc
    report.n_kept = len(pairs)
    if not pairs:
        raise _nothing_usable(report, "question pair")
    return pairs, report


# --------------------------------------------------------------------------------------------------
# helpers


@dataclass(frozen=True)
class _Columns:
    question1: str | None
    question2: str | None
    label: str | None
    qid1: str | None
    qid2: str | None


def _read_error(path: str, fmt: str, exc: Exception) -> DataError:
    # gzip reports corrupt or truncated archives only once reading reaches the damage.
    if isinstance(exc, csv.Error):
        return DataError(f"{path}: malformed {fmt} data: {exc}")
    return DataError(f"{path}: cannot read file: {exc}")


def _nothing_usable(report: ReadReport, what: str) -> DataError:
    why = _reasons_text(report.skipped) if report.skipped else "empty file"
    return DataError(f"{report.path}: no usable {what} in {_plural(report.n_rows, 'row')} ({why})")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _reasons_text(skipped: collections.Counter[str]) -> str:
    def order(reason: str) -> tuple[int, int, str]:
        rank = REASONS.index(reason) if reason in REASONS else len(REASONS)
        return (-skipped[reason], rank, reason)

    return ", ".join(f"{skipped[r]:,} {r}" for r in sorted(skipped, key=order) if skipped[r])


def _extension(path: str) -> str:
    name = Path(path).name.lower()
    if name.endswith(".gz"):
        name = name[: -len(".gz")]
    return os.path.splitext(name)[1]


def _first_line(path: str) -> str | None:
    """The first non-blank line, without its line ending, or None for an empty file."""
    try:
        with _open_text(path) as f:
            for line in f:
                if line.strip():
                    return line.rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read file: {exc}") from exc
    return None


def _delimiter(path: str, fmt: str, first_line: str | None) -> str:
    if fmt == "tsv":
        return "\t"
    if fmt == "csv":
        return ","
    ext = _extension(path)
    if ext == ".tsv":
        return "\t"
    if ext == ".csv":
        return ","
    return "\t" if first_line is not None and "\t" in first_line else ","


def _csv_reader(f: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    # Largest value the C long behind csv.field_size_limit accepts on every platform.
    csv.field_size_limit(2**31 - 1)
    if delimiter == "\t":
        # Real TSV releases have stray quote characters inside questions; they are text, not quoting.
        return csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
    return csv.reader(f, delimiter=delimiter)


def _normalise_header(row: list[str]) -> list[str]:
    names = [name.strip() for name in row]
    if names:
        names[0] = names[0].lstrip("\ufeff").strip()
    return names


def _detect_format(path: str) -> str:
    ext = _extension(path)
    if ext in (".jsonl", ".json"):
        return "jsonl"
    if ext not in (".csv", ".tsv", ".txt"):
        raise DataError(
            f"{path}: cannot detect the format from extension {ext or '(none)'!r}; "
            f"pass format= one of {', '.join(FORMATS)}"
        )
    first = _first_line(path)
    if first is not None:
        fields = first.split("\t")
        if len(fields) == 4 and fields[0].strip() in ("0", "1"):
            return "partition"
    delimiter = _delimiter(path, "quora", first)
    if first is not None:
        header = _normalise_header(next(iter(_csv_reader(iter([first]), delimiter)), []))
        if set(_QUORA_COLUMNS) <= set(header):
            return "quora"
    return "tsv" if delimiter == "\t" else "csv"


def _is_blank(row: list[str]) -> bool:
    return not row or (len(row) == 1 and not row[0].strip())


def _missing_column(path: str, wanted: str | tuple[str, ...], header: list[str], hint: str = "") -> DataError:
    """`wanted` is a column name, or the names of which any one would do."""
    names = " or ".join(repr(name) for name in ((wanted,) if isinstance(wanted, str) else wanted))
    if len(header) == 1 and not hint:
        hint = _delimiter_hint(header[0])
    return DataError(f"{path}: missing column {names} (columns: {_columns_text(header)}){hint}")


def _delimiter_hint(only_column: str) -> str:
    """A header read as one column usually means another delimiter than the one the extension implies."""
    for delimiter, name in ((";", "semicolons"), ("|", "bars"), ("\t", "tabs"), (",", "commas")):
        if delimiter in only_column:
            return f"; the header has one column: is the file separated by {name}? .csv is read with commas, .tsv with tabs"
    return ""


def _columns_text(header: list[str], shown: int = 12) -> str:
    """The column names for a message; a header line of data (one 10 MB "name") is quoted briefly."""
    names = [repr(excerpt(name, 40)) for name in header[:shown]]
    more = f", … {len(header) - shown:,} more" if len(header) > shown else ""
    return excerpt(", ".join(names), 400) + more if names else "(none)"


def _label_hint(columns: _Columns) -> str:
    opt = "pass label=... or " if columns.label is None else ""
    return f"; {opt}use require_label=False for unlabelled data"


def _resolve_label(columns: _Columns, names: Collection[str]) -> str | None:
    """The label column to use, or None when there is none (only an error if a label is required)."""
    if columns.label is not None:
        return columns.label if columns.label in names else None
    for candidate in ("is_duplicate", "label"):
        if candidate in names:
            return candidate
    return None


def _required_columns(
    path: str, columns: _Columns, available: Collection[str], header: list[str], require_label: bool
) -> tuple[str, str, str | None]:
    """The question and label column names, or a DataError naming what is missing."""
    q1_name = columns.question1 or "question1"
    q2_name = columns.question2 or "question2"
    for name in (q1_name, q2_name):
        if name not in available:
            raise _missing_column(path, name, header)
    label_name = _resolve_label(columns, available)
    if label_name is None and (require_label or columns.label is not None):
        wanted = columns.label or ("is_duplicate", "label")
        raise _missing_column(path, wanted, header, _label_hint(columns) if require_label else "")
    return q1_name, q2_name, label_name


def _header_rows(path: str, fmt: str, columns: _Columns, require_label: bool) -> Iterator[Pair | str]:
    """Rows of a csv/tsv/quora file with a header row; yields a Pair or a skip reason per data row."""
    first = _first_line(path) if fmt == "quora" else None
    delimiter = _delimiter(path, fmt, first)
    with _open_text(path) as f:
        reader = _csv_reader(f, delimiter)
        header: list[str] | None = None
        for row in reader:
            if not _is_blank(row):
                header = _normalise_header(row)
                break
        if header is None:
            return
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            index.setdefault(name, i)

        q1_name, q2_name, label_name = _required_columns(path, columns, index, header, require_label)
        qid_names: list[str | None] = []
        for given, default in ((columns.qid1, "qid1"), (columns.qid2, "qid2")):
            if given is not None or fmt == "quora":
                name = given or default
                if name not in index:
                    raise _missing_column(path, name, header)
                qid_names.append(name)
            else:
                qid_names.append(default if default in index else None)

        i_q1, i_q2 = index[q1_name], index[q2_name]
        i_label = index[label_name] if label_name is not None else None
        i_qid1, i_qid2 = (index[n] if n is not None else None for n in qid_names)

        def cell(row: list[str], i: int | None) -> Any:
            return row[i] if i is not None and i < len(row) else _MISSING

        for row in reader:
            if _is_blank(row):
                continue
            yield _build_pair(
                cell(row, i_q1),
                cell(row, i_q2),
                cell(row, i_label) if i_label is not None else None,
                cell(row, i_qid1),
                cell(row, i_qid2),
                require_label=require_label,
            )


def _partition_rows(path: str, require_label: bool) -> Iterator[Pair | str]:
    """Rows of the header-less ``label<TAB>question1<TAB>question2<TAB>pair_id`` partition TSV."""
    with _open_text(path) as f:
        for row in _csv_reader(f, "\t"):
            if _is_blank(row):
                continue
            if len(row) < 3:
                yield "missing field"
                continue
            yield _build_pair(row[1], row[2], row[0], None, None, require_label=require_label)


def _jsonl_rows(path: str, columns: _Columns, require_label: bool) -> Iterator[Pair | str]:
    """Lines of a JSON-lines file; one JSON object per line."""
    objects = list(_json_objects(path))
    keys = {key for obj in objects if obj is not None for key in obj}

    q1_name = columns.question1 or "question1"
    q2_name = columns.question2 or "question2"
    # JSONL has no header: a key counts as a missing column only if no object in the file has it.
    if keys:
        header = sorted(keys)
        q1_name, q2_name, label_name = _required_columns(path, columns, keys, header, require_label)
        for name in (columns.qid1, columns.qid2):
            if name is not None and name not in keys:
                raise _missing_column(path, name, header)
    else:
        label_name = None
    qid1_name = columns.qid1 or "qid1"
    qid2_name = columns.qid2 or "qid2"

    for obj in objects:
        if obj is None:
            yield "bad json"
            continue
        values = [
            obj.get(q1_name, _MISSING),
            obj.get(q2_name, _MISSING),
            obj.get(label_name, _MISSING) if label_name is not None else None,
            obj.get(qid1_name),
            obj.get(qid2_name),
        ]
        for i in (0, 1, 3, 4):
            v = values[i]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                values[i] = str(v)
            elif not (v is None or v is _MISSING or isinstance(v, str)):
                values[i] = _BAD
        if _BAD in values:
            yield "bad json"
            continue
        yield _build_pair(*values, require_label=require_label)


def _json_objects(path: str) -> Iterator[dict[str, Any] | None]:
    """Each non-blank line of a JSON-lines file as an object, or None where it is not a JSON object."""
    with _open_text(path) as f:
        for line in f:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            yield obj if isinstance(obj, dict) else None


def _parse_label(value: Any) -> int | None:
    """0 or 1 from "0"/"1", 0/1 or a JSON boolean; None when the value is not a valid label."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if value in (0, 1) else None
    if isinstance(value, str):
        text = value.strip()
        if text in ("0", "1"):
            return int(text)
    return None


def _build_pair(q1: Any, q2: Any, label: Any, qid1: Any, qid2: Any, *, require_label: bool) -> Pair | str:
    """Validate one row's raw values; returns the Pair or the reason it is skipped."""
    label_absent = label is None or label is _MISSING or (isinstance(label, str) and not label.strip())
    if q1 is None or q1 is _MISSING or q2 is None or q2 is _MISSING or (require_label and label_absent):
        return "missing field"
    used = (q1, q2, label, qid1, qid2)
    if any(isinstance(v, str) and _SURROGATE.search(v) for v in used):
        return "undecodable"
    q1, q2 = q1.strip(), q2.strip()
    if not q1 or not q2:
        return "empty text"
    if len(q1) > MAX_TEXT_CHARS or len(q2) > MAX_TEXT_CHARS:
        return "too long"
    parsed: int | None = None
    if not label_absent:
        parsed = _parse_label(label)
        if parsed is None:
            return "bad label"
    return Pair(q1, q2, parsed, _clean_id(qid1), _clean_id(qid2))


def _clean_id(value: Any) -> str | None:
    if value is None or value is _MISSING:
        return None
    text = str(value).strip()
    return text or None
