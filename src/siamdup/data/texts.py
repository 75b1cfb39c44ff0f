"""Read single questions with ids, the input of an index or of de-duplication.

Formats: "csv"/"tsv" with a header row (a text column and, optionally, an id column), "jsonl" (one
object per line), and "lines" (plain text, one question per line, numbered from 1). Without an id
column each question's id is its row number. Bad rows are skipped and counted by reason, as for pairs.
"""

from __future__ import annotations

import csv
import os
import zlib
from collections.abc import Iterator
from typing import Any

from siamdup.data.files import check_text_file
from siamdup.data.readers import (
    _SURROGATE,
    MAX_TEXT_CHARS,
    DataError,
    ReadReport,
    _csv_reader,
    _delimiter,
    _extension,
    _first_line,
    _is_blank,
    _json_objects,
    _missing_column,
    _normalise_header,
    _nothing_usable,
    _open_text,
    _read_error,
)

__all__ = ["TEXT_FORMATS", "read_texts"]

TEXT_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "lines")


def read_texts(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    text_column: str = "text",
    id_column: str | None = None,
) -> tuple[list[str], list[str], ReadReport]:
    """(ids, texts, report) from ``path`` (``.gz`` read transparently).

    ``format`` "auto" picks by extension: .csv, .tsv, .jsonl/.json, anything else is "lines". A row is
    skipped (and counted) when its text is missing, empty, undecodable or longer than
    ``MAX_TEXT_CHARS``, its JSON is bad, or its id repeats an earlier row's. Raises :class:`DataError` when the file or a named column is missing,
    or no row is usable.
    """
    path_str = os.fspath(path)
    if not os.path.exists(path_str):
        raise DataError(f"{path_str}: file not found")
    if not os.path.isfile(path_str):
        raise DataError(f"{path_str}: not a regular file")
    check_text_file(path_str)
    if format == "auto":
        ext = _extension(path_str)
        format = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}.get(ext, "lines")
    elif format not in TEXT_FORMATS:
        raise DataError(f"{path_str}: unknown format {format!r} (expected auto, {', '.join(TEXT_FORMATS)})")
    if format == "lines" and id_column is not None:
        raise DataError(f"{path_str}: plain-lines files have no columns; ids are line numbers")

    report = ReadReport(path=path_str, format=format, n_rows=0, n_kept=0, unit="question")
    ids: list[str] = []
    texts: list[str] = []
    seen: set[str] = set()
    rows: Iterator[tuple[Any, Any]]
    try:
        if format == "lines":
            rows = _line_rows(path_str)
        elif format == "jsonl":
            rows = _jsonl_rows(path_str, text_column, id_column)
        else:
            rows = _table_rows(path_str, format, text_column, id_column)
        for number, (qid, text) in enumerate(rows, start=1):
            report.n_rows += 1
            reason = _problem(qid, text)
            if reason is None:
                qid = str(number) if qid is None else str(qid).strip()
                if qid in seen:
                    reason = "duplicate id"
            if reason is not None:
                report.skipped[reason] += 1
                continue
            seen.add(qid)
            ids.append(qid)
            texts.append(text.strip())
    except (OSError, EOFError, zlib.error, csv.Error) as exc:
        raise _read_error(path_str, format, exc) from exc
    report.n_kept = len(texts)
    if not texts:
        raise _nothing_usable(report, "question")
    return ids, texts, report


_BAD_JSON = "bad json"


def _problem(qid: Any, text: Any) -> str | None:
    if text is _BAD_JSON:
        return "bad json"
    if text is None:
        return "missing field"
    if (
        not isinstance(text, str)
        or isinstance(qid, bool)
        or (qid is not None and not isinstance(qid, (str, int)))
    ):
        return "bad json"
    if _SURROGATE.search(text) or (isinstance(qid, str) and _SURROGATE.search(qid)):
        return "undecodable"
    if not text.strip() or (qid is not None and not str(qid).strip()):
        return "empty text" if not text.strip() else "missing field"
    if len(text.strip()) > MAX_TEXT_CHARS or len(str(qid)) > MAX_TEXT_CHARS:
        return "too long"
    return None


def _line_rows(path: str) -> Iterator[tuple[None, str]]:
    with _open_text(path) as f:
        for line in f:
            yield None, line.rstrip("\r\n")


def _table_rows(path: str, fmt: str, text_column: str, id_column: str | None) -> Iterator[tuple[Any, Any]]:
    with _open_text(path) as f:
        reader = _csv_reader(f, _delimiter(path, fmt, _first_line(path)))
        header = _normalise_header(next((row for row in reader if not _is_blank(row)), []))
        if not header:
            return  # an empty file: reported as having no usable question
        for name in (text_column, id_column):
            if name is not None and name not in header:
                raise _missing_column(path, name, header)
        text_at = header.index(text_column)
        id_at = header.index(id_column) if id_column is not None else None
        for row in reader:
            if _is_blank(row):
                continue
            text = row[text_at] if text_at < len(row) else None
            qid = (row[id_at] if id_at < len(row) else "") if id_at is not None else None
            yield qid, text


def _jsonl_rows(path: str, text_column: str, id_column: str | None) -> Iterator[tuple[Any, Any]]:
    for obj in _json_objects(path):
        if obj is None:
            yield None, _BAD_JSON
            continue
        qid = obj.get(id_column) if id_column is not None else None
        if id_column is not None and qid is None:
            yield None, None  # counted as a missing field
            continue
        yield qid, obj.get(text_column)
