"""The SVC2004 Task 2 archive read in place: `Task2/U{writer}S{session}.TXT` inside a .tar.gz.

Sessions 1-20 of a writer are genuine, 21-40 skilled forgeries of that writer's signature by others.
`load_svc2004` takes the archive or the folder that holds it (or a folder of loose `U*S*.TXT` files).
"""

from __future__ import annotations

import re
import tarfile
from dataclasses import dataclass
from pathlib import Path

from siamdup.trajectory.points import Trajectory, TrajectoryFormatError, parse_svc2004

ARCHIVE = "svc2004_task2.tar.gz"
GENUINE_SESSIONS = range(1, 21)
NAME = re.compile(r"U(\d+)S(\d+)\.TXT$", re.IGNORECASE)


@dataclass(frozen=True)
class SignatureRecord:
    """One signature of the data set: whose it is, which session, and whether it is genuine."""

    writer: int
    session: int
    trajectory: Trajectory

    @property
    def genuine(self) -> bool:
        return self.session in GENUINE_SESSIONS


def find_archive(path: str | Path) -> Path:
    """The archive itself, or `svc2004_task2.tar.gz` in the folder `path`; `FileNotFoundError` if none."""
    path = Path(path)
    if path.is_file():
        return path
    if (path / ARCHIVE).is_file():
        return path / ARCHIVE
    if path.is_dir() and any(NAME.search(p.name) for p in path.iterdir()):
        return path
    raise FileNotFoundError(f"no SVC2004 data at {path}: expected {ARCHIVE} or U*S*.TXT files there")


def load_svc2004(path: str | Path, writers: set[int] | None = None) -> list[SignatureRecord]:
    """Every signature (of `writers`, when given), sorted by writer then session."""
    source = find_archive(path)
    records = []
    for name, read in _members(source):
        match = NAME.search(name)
        if match is None:
            continue
        writer, session = int(match.group(1)), int(match.group(2))
        if writers is not None and writer not in writers:
            continue
        text = read().decode("ascii", "replace")
        records.append(SignatureRecord(writer, session, parse_svc2004(text, f"{source}:{name}")))
    if not records:
        raise TrajectoryFormatError(str(source), "holds no U*S*.TXT signature of the writers asked for")
    return sorted(records, key=lambda r: (r.writer, r.session))


def _members(source: Path):
    if source.is_dir():
        for p in sorted(source.iterdir()):
            yield p.name, p.read_bytes
        return
    try:
        with tarfile.open(source, "r:*") as archive:
            for member in archive.getmembers():
                if member.isfile():
                    f = archive.extractfile(member)
                    if f is not None:
                        yield member.name, f.read
    except (tarfile.TarError, OSError, EOFError) as e:
        raise TrajectoryFormatError(str(source), f"not a readable tar archive: {e}") from None
