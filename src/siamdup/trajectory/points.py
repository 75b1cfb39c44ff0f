"""Pen trajectories (online signatures) and their readers: SVC2004 `.TXT`, a JSON and a CSV of points.

A `Trajectory` is a float array of points, one row each, with named columns: always x, y, t (ms) and
pen_down (1 or 0), and where the device gives them azimuth, altitude and pressure. Readers keep the
points in the order the device wrote them; `features` turns them into what the encoder reads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REQUIRED = ("x", "y", "t", "pen_down")
OPTIONAL = ("azimuth", "altitude", "pressure")
COLUMNS = REQUIRED + OPTIONAL
SVC2004_COLUMNS = ("x", "y", "t", "pen_down", "azimuth", "altitude", "pressure")
SUFFIXES = (".txt", ".json", ".csv")
MIN_POINTS = 2


class TrajectoryFormatError(ValueError):
    """A trajectory file that cannot be read; the message names the file and, where known, the line."""

    def __init__(self, source: str, problem: str, line: int | None = None) -> None:
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {problem}")
        self.source = source
        self.line = line


@dataclass(frozen=True)
class Trajectory:
    """Points (n, len(columns)) float64 in writing order; `columns` names them (x, y, t, pen_down first)."""

    points: np.ndarray
    columns: tuple[str, ...] = REQUIRED
    source: str = "<memory>"

    def __post_init__(self) -> None:
        if tuple(self.columns[:4]) != REQUIRED or not set(self.columns[4:]) <= set(OPTIONAL):
            raise ValueError(f"columns must be {REQUIRED} then any of {OPTIONAL}, got {self.columns}")
        if self.points.ndim != 2 or self.points.shape[1] != len(self.columns):
            raise ValueError(f"points must be (n, {len(self.columns)}), got {self.points.shape}")
        if len(self.points) < MIN_POINTS:
            raise TrajectoryFormatError(self.source, f"a signature needs at least {MIN_POINTS} points")
        if not np.isfinite(self.points).all():
            raise TrajectoryFormatError(self.source, "points must be finite numbers (no NaN or infinity)")

    def __len__(self) -> int:
        return len(self.points)

    def has(self, name: str) -> bool:
        return name in self.columns

    def column(self, name: str) -> np.ndarray:
        """One column as a float64 vector; `KeyError` when this trajectory lacks it (see `has`)."""
        if name not in self.columns:
            raise KeyError(f"{self.source} has no {name} column (it has {', '.join(self.columns)})")
        return self.points[:, self.columns.index(name)]

    @classmethod
    def from_points(cls, points: Sequence[Mapping[str, float] | Sequence[float]], source: str = "<memory>"):
        """From dicts with keys x, y, t (pen_down, pressure, ... optional) or rows [x, y, t, ...]."""
        return _from_rows(list(points), source)


Signature = Trajectory


def read_trajectory(path: str | Path) -> Trajectory:
    """Read a `.txt` (SVC2004), `.json` or `.csv` trajectory file; `TrajectoryFormatError` if it is bad."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as e:
        raise TrajectoryFormatError(str(path), f"cannot read: {e.strerror or e}") from None
    return parse_trajectory(content, path.suffix, str(path))


def parse_trajectory(content: bytes | str, suffix: str, source: str = "<upload>") -> Trajectory:
    """A trajectory from a file's content; `suffix` (".txt", ".json", ".csv") says its format."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise TrajectoryFormatError(source, f"not UTF-8 text (byte {e.start})") from None
    kind = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
    if kind == ".txt":
        return parse_svc2004(content, source)
    if kind == ".json":
        return parse_json(content, source)
    if kind == ".csv":
        return parse_csv(content, source)
    raise TrajectoryFormatError(source, f"unknown trajectory format {suffix!r} (use {', '.join(SUFFIXES)})")


def parse_svc2004(text: str, source: str = "<svc2004>") -> Trajectory:
    """SVC2004 Task 1/2 text: a count N, then N rows `X Y T BUTTON [AZIMUTH ALTITUDE PRESSURE]`.

    CRLF or LF line ends; any non-zero BUTTON is pen-down; time stamps are kept as written
    (`features` copes with the few that step backwards).
    """
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise TrajectoryFormatError(source, "empty file")
    try:
        count = int(lines[0])
    except ValueError:
        raise TrajectoryFormatError(
            source, f"expected the number of points, got {lines[0][:40]!r}", 1
        ) from None
    rows = lines[1:]
    if count != len(rows):
        raise TrajectoryFormatError(source, f"the header says {count} points but {len(rows)} follow", 1)
    width = len(rows[0].split()) if rows else 0
    if width not in (4, 7):
        raise TrajectoryFormatError(source, f"expected 4 or 7 numbers per point, got {width}", 2)
    values = np.empty((len(rows), width))
    for i, row in enumerate(rows):
        fields = row.split()
        if len(fields) != width:
            raise TrajectoryFormatError(source, f"expected {width} numbers, got {len(fields)}", i + 2)
        try:
            values[i] = [float(f) for f in fields]
        except ValueError:
            raise TrajectoryFormatError(source, f"not a number in {row[:60]!r}", i + 2) from None
    values[:, 3] = values[:, 3] != 0
    return _checked(values, SVC2004_COLUMNS[:width], source, first_line=2)


def parse_json(text: str, source: str = "<json>") -> Trajectory:
    """`{"points": [{"x": .., "y": .., "t": .., "pressure": .., "pen_down": ..}, ...]}` or a bare list
    of such objects or of rows `[x, y, t, pen_down?, ...]`."""
    try:
        data = json.loads(text)
    except ValueError as e:
        line = getattr(e, "lineno", None)
        raise TrajectoryFormatError(source, f"not valid JSON: {e}", line) from None
    points = data.get("points") if isinstance(data, dict) else data
    if not isinstance(points, list):
        raise TrajectoryFormatError(source, 'expected {"points": [...]} or a list of points')
    return _from_rows(points, source)


def parse_csv(text: str, source: str = "<csv>") -> Trajectory:
    """A header naming columns (x, y, t required; pen_down, pressure, azimuth, altitude optional; other
    columns ignored), then one point per row."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise TrajectoryFormatError(source, "empty file")
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("x", "y", "t") if c not in names]
    if missing:
        raise TrajectoryFormatError(source, f"the header lacks column(s) {', '.join(missing)}", 1)
    points = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            raise TrajectoryFormatError(source, f"expected {len(names)} fields, got {len(row)}", number)
        try:
            points.append({n: float(v) for n, v in zip(names, row, strict=True) if n in COLUMNS})
        except ValueError:
            raise TrajectoryFormatError(source, f"not a number in {','.join(row)[:60]!r}", number) from None
    return _from_rows(points, source, first_line=2)


def _from_rows(points: list, source: str, first_line: int | None = None) -> Trajectory:
    """Points as dicts (named columns) or rows (x, y, t, pen_down, azimuth, altitude, pressure order)."""
    if not points:
        raise TrajectoryFormatError(source, "no points")
    if isinstance(points[0], Mapping):
        columns = tuple(c for c in COLUMNS if c in points[0] or (c == "pen_down"))
        rows = []
        for i, p in enumerate(points):
            if not isinstance(p, Mapping) or any(c not in p for c in ("x", "y", "t")):
                raise TrajectoryFormatError(source, f"point {i} needs x, y and t", _line(first_line, i))
            rows.append([p.get(c, 1.0) if c == "pen_down" else p.get(c) for c in columns])
    else:
        width = len(points[0]) if isinstance(points[0], Sequence) else 0
        if width < 3:
            raise TrajectoryFormatError(source, "each point needs at least x, y and t")
        columns = COLUMNS[: max(width, 4)]
        rows = [list(p) + [1.0] * (width == 3) if isinstance(p, Sequence) else p for p in points]
    try:
        values = np.array(rows, dtype=np.float64)
    except (ValueError, TypeError):
        raise TrajectoryFormatError(source, "every point must hold the same numeric fields") from None
    if values.ndim != 2 or values.shape[1] != len(columns):
        raise TrajectoryFormatError(source, "every point must hold the same numeric fields")
    values[:, 3] = values[:, 3] != 0
    return _checked(values, columns, source, first_line)


def _checked(values: np.ndarray, columns: tuple[str, ...], source: str, first_line: int | None) -> Trajectory:
    bad = np.flatnonzero(~np.isfinite(values).all(axis=1))
    if len(bad):
        raise TrajectoryFormatError(source, "not a finite number", _line(first_line, int(bad[0])))
    return Trajectory(values, columns, source)


def _line(first_line: int | None, index: int) -> int | None:
    return None if first_line is None else first_line + index
