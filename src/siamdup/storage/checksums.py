"""SHA-256 of every stored file, kept in `checksums.sha256` beside them (the format `sha256sum -c` reads).

Each save records the digest of every file it writes; a load hashes each file once, as it reads it, and
refuses one whose bytes differ. Directories saved before checksums existed have no such file and load as
before.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import BinaryIO

CHECKSUMS = "checksums.sha256"
CHUNK = 1 << 20
_LINE = re.compile(r"^([0-9a-f]{64}) [ *]([^/\\]+)$")


class CorruptFileError(ValueError):
    """A stored file that cannot be trusted: `path` names it."""

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


class ChecksumMismatchError(CorruptFileError):
    """A stored file whose bytes differ from those its save recorded."""

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        self.expected, self.actual = expected, actual
        super().__init__(
            path,
            f"its SHA-256 is {actual[:12]}…, the save recorded {expected[:12]}… in {CHECKSUMS}: the file is "
            "corrupt or was changed after it was saved",
        )


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def format_checksums(digests: dict[str, str]) -> str:
    return "".join(f"{digest}  {name}\n" for name, digest in sorted(digests.items()))


def parse_checksums(text: str, path: Path) -> dict[str, str]:
    digests = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.match(line)
        if match is None or match[2] in (".", ".."):
            raise CorruptFileError(path, f"line {number} is not `<sha256>  <file name>`")
        digests[match[2]] = match[1]
    return digests


class HashingReader:
    """A binary file read once: everything read is hashed, and `verify` checks the digest at the end."""

    def __init__(self, file: BinaryIO, path: Path, expected: str | None) -> None:
        self._file, self.path, self.expected = file, path, expected
        self._hash = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._hash.update(data)
        return data

    def readline(self) -> bytes:
        line = self._file.readline()
        self._hash.update(line)
        return line

    def __iter__(self):
        return iter(self.readline, b"")

    def verify(self) -> None:
        """Hash what was not read yet, then raise `ChecksumMismatchError` unless the digest matches."""
        while self.read(CHUNK):
            pass
        if self.expected is not None and self._hash.hexdigest() != self.expected:
            raise ChecksumMismatchError(self.path, self.expected, self._hash.hexdigest())
