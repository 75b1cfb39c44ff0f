"""What an index directory's files may hold, checked as they are read: the manifest field by field, each
line of `entries.jsonl`, each line of `journal.jsonl`. Errors name the file, the line and the field."""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from siamdup.storage import CorruptFileError, check_format, validated

FORMAT = "siamdup-index"
FORMAT_VERSION = 1
SHOWN_NOTES = 5  # journal problems described one by one; the rest are counted

Positive = Annotated[StrictInt, Field(ge=1)]
NonNegative = Annotated[StrictInt, Field(ge=0)]
FileName = Annotated[StrictStr, Field(pattern=r"^[^/\\]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StoredHNSW(Strict):
    m: Positive
    ef_construction: Positive
    ef_search: Positive


class ModelReference(Strict):
    fingerprint: StrictStr
    path: StrictStr | None


class Manifest(BaseModel):
    format: Literal["siamdup-index"]
    format_version: Literal[1]
    kind: Literal["auto", "exact", "hnsw"]
    search: Literal["exact", "hnsw"]
    hnsw: StoredHNSW
    dim: Positive
    rows: NonNegative
    questions: NonNegative
    model: ModelReference
    file_sizes: dict[FileName, NonNegative]
    generation: StrictStr | None = None  # saved since journals name the save they follow


def check_manifest(data: object, path: Path) -> Manifest:
    check_format(data, path, "index", FORMAT, FORMAT_VERSION)
    return validated(Manifest, data, path)


def _bad_entry(entry: object) -> bool:
    return not (
        type(entry) is dict
        and len(entry) == 2
        and type(entry.get("id")) is str
        and type(entry.get("text")) is str
    )


def parse_entries(data: bytes, path: Path) -> list[tuple[str, str] | None]:
    """The rows of entries.jsonl: each line `null` (a removed row) or {"id": string, "text": string}."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError as e:
        raise CorruptFileError(path, f"is not UTF-8 text ({e.reason} at byte {e.start})") from None
    if lines[-1] == "":
        lines.pop()
    try:
        entries = json.loads("[" + ",".join(lines) + "]")  # one parse: far faster than line by line
    except ValueError:
        entries = None
    if entries is None or len(entries) != len(lines):  # find the line at fault
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entries.append(json.loads(line))
            except ValueError:
                raise CorruptFileError(path, f"line {number} is not valid JSON") from None
    rows: list[tuple[str, str] | None] = []
    for number, entry in enumerate(entries, start=1):
        if entry is None:
            rows.append(None)
        elif _bad_entry(entry):
            shown = json.dumps(entry)[:80]
            raise CorruptFileError(
                path, f'line {number} is {shown}, expected null or {{"id": string, "text": string}}'
            )
        else:
            rows.append((entry["id"], entry["text"]))
    return rows


@dataclass
class JournalRecord:
    op: str  # "add" or "remove"
    id: str
    text: str | None
    line: int


@dataclass
class JournalReading:
    generation: str | None = None  # of the save this journal follows, from its first line
    records: list[JournalRecord] = field(default_factory=list)
    damaged: int = 0  # lines that cannot be read (a write cut short by a crash) or are not valid changes
    notes: list[str] = field(default_factory=list)

    def note(self, message: str) -> None:
        if len(self.notes) < SHOWN_NOTES:
            self.notes.append(message)


def _problem(record: object) -> str | None:
    """What is wrong with a journal record, or None."""
    if not isinstance(record, dict) or record.get("op") not in ("add", "remove"):
        return "not an add or a remove"
    if not isinstance(record.get("id"), str):
        return "its id is not a string"
    if record["op"] == "add":
        text = record.get("text")
        if not isinstance(text, str) or not text.strip():
            return "its text is null" if text is None else "its text is not a non-empty string"
    return None


def journal_line(record: dict) -> str:
    """One journal record as a line, with the checksum that lets a reader tell a damaged line."""
    return json.dumps({**record, "crc": _crc(record)}) + "\n"


def read_journal(lines, path: Path) -> JournalReading:
    """Every change of a journal. A last line cut short by a crash (never acknowledged: each change is
    fsynced before it is answered) is counted and skipped; any other damaged line refuses the journal,
    since skipping it would silently drop an acknowledged change."""
    reading = JournalReading()
    for number, raw in enumerate(lines, start=1):
        record, problem = _parse(raw)
        if number == 1 and problem is None and record.get("op") == "base":
            reading.generation = str(record.get("generation"))
            continue
        problem = problem or _problem(record)
        if problem and not raw.endswith(b"\n" if isinstance(raw, bytes) else "\n"):
            reading.damaged += 1
            reading.note(f"{path.name} line {number}: cut short (a write interrupted by a crash), skipped")
        elif problem:
            raise CorruptFileError(
                path,
                f"line {number}: {problem}; it holds an acknowledged change, so the index is not loaded "
                "without it: repair or delete that line (or move the journal away to load the last save)",
            )
        else:
            reading.records.append(JournalRecord(record["op"], record["id"], record.get("text"), number))
    return reading


def _crc(record: dict) -> str:
    payload = {k: v for k, v in record.items() if k != "crc"}
    return f"{zlib.crc32(json.dumps(payload, sort_keys=True).encode()):08x}"


def _parse(raw: str | bytes) -> tuple[dict, str | None]:
    """A journal line's record and what is wrong with its form (None when it reads)."""
    try:
        record = json.loads(raw)
    except ValueError:
        return {}, "not valid JSON"
    if not isinstance(record, dict):
        return {}, "not a JSON object"
    if "crc" in record and record["crc"] != _crc(record):  # lines of older versions carry no checksum
        return record, "its checksum does not match (damaged bytes)"
    return record, None


def journal_header(generation: str) -> str:
    """The first line of a fresh journal: the save it follows."""
    return json.dumps({"op": "base", "generation": generation}) + "\n"
