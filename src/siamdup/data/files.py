"""Opening a user's data file: refusing what is not text, and quoting its content in messages briefly.

A questions or pairs file is UTF-8 text. Binary data (an image, an archive, a UTF-16 export) would
otherwise be split at its newline bytes and read as a few garbage "questions", so the first block is
checked before anything is read.
"""

from __future__ import annotations

import gzip
import zlib
from typing import IO

__all__ = ["SNIFF_BYTES", "DataError", "check_text_file", "excerpt", "open_text"]

SNIFF_BYTES = 64 * 1024
# Above this share of undecodable bytes a file is in another encoding, not UTF-8 with a few bad rows.
MAX_UNDECODABLE_SHARE = 0.10
EXCERPT_CHARS = 120
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class DataError(ValueError):
    """A file that cannot be read as questions or question pairs at all."""


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` cut to at most `limit` characters (an ellipsis marks the cut) for quoting in a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def open_text(path: str) -> IO[str]:
    """The file as text (gunzipped when its name ends in .gz); bytes that are not UTF-8 become surrogates."""
    # newline="" lets the csv module see the newlines inside quoted Kaggle fields.
    if path.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="")
    return open(path, encoding="utf-8", errors="surrogateescape", newline="")


def check_text_file(path: str) -> None:
    """Raise :class:`DataError` unless the start of `path` reads as UTF-8 text (gunzipped for .gz)."""
    block = _first_block(path)
    if block.startswith(_UTF16_BOMS):
        raise DataError(f"{path}: UTF-16 text; siamdup reads UTF-8 (save the file as UTF-8)")
    kib = f"{max(1, len(block) // 1024)} KiB"
    if b"\0" in block:
        raise DataError(
            f"{path}: binary data (NUL bytes in its first {kib}), not a text file of questions; "
            "give a CSV, TSV, JSONL or plain-text file"
        )
    text = block.decode("utf-8", errors="surrogateescape")
    undecodable = sum(1 for ch in text if "\udc80" <= ch <= "\udcff")
    if text and undecodable > MAX_UNDECODABLE_SHARE * len(text):
        raise DataError(
            f"{path}: not UTF-8 text ({undecodable / len(text):.0%} of its first {kib} is not valid UTF-8); "
            "save the file as UTF-8"
        )


def _first_block(path: str) -> bytes:
    try:
        if path.lower().endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read(SNIFF_BYTES)
        with open(path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except gzip.BadGzipFile:
        raise DataError(f"{path}: not a gzip file, though its name ends in .gz") from None
    except (EOFError, zlib.error) as exc:
        raise DataError(f"{path}: damaged gzip file: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read file: {exc.strerror or exc}") from None
