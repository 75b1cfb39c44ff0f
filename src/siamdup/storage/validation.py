"""Settings read from a stored file, checked by a pydantic model; errors name the file and the field."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from siamdup.storage.checksums import CorruptFileError

M = TypeVar("M", bound=BaseModel)
SHOWN_CHARS = 60  # of a rejected value, quoted in the message


def _describe(error: ErrorDetails) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "the top level"
    if error["type"] == "missing":
        return f"field {field}: {error['msg']}"
    shown = repr(error["input"])
    if len(shown) > SHOWN_CHARS:
        shown = shown[:SHOWN_CHARS] + "…"
    return f"field {field}: {error['msg']} (got {shown})"


def validated(schema: type[M], data: object, path: Path, where: str = "") -> M:
    """`data` checked against `schema`, or `CorruptFileError` naming `path` (and `where` in it, e.g. a
    line) and each wrong field."""
    try:
        return schema.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(_describe(err) for err in e.errors()[:3])
        more = f" (and {e.error_count() - 3} more)" if e.error_count() > 3 else ""
        raise CorruptFileError(path, f"{where}{problems}{more}") from None


def check_format(data: object, path: Path, kind: str, name: str, version: int) -> None:
    """Refuse a stored `kind` ("model", "index") whose declared format is not `name` v`version`."""
    if isinstance(data, dict) and (data.get("format") != name or data.get("format_version") != version):
        raise CorruptFileError(
            path,
            f"unsupported {kind} format {data.get('format')!r} version {data.get('format_version')!r} "
            f"(this siamdup reads {name} v{version})",
        )
