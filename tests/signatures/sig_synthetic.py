"""Synthetic writers for the signature tests: each writer's signature is a smooth curve of its own; a
genuine copy varies it a little, a skilled forgery varies it more and writes it slower."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siamdup.trajectory.points import SVC2004_COLUMNS, Trajectory
from siamdup.trajectory.svc2004 import SignatureRecord


def synthetic_signature(writer: int, session: int, n_points: int = 150) -> Trajectory:
    shape = np.random.default_rng(writer)
    freqs = shape.uniform(1, 4, size=(2, 3))
    phases = shape.uniform(0, 2 * np.pi, size=(2, 3))
    amps = shape.uniform(0.3, 1.0, size=(2, 3))
    forged = session > 20
    rng = np.random.default_rng(writer * 1000 + session)
    wobble = 0.25 if forged else 0.04
    freqs = freqs * (1 + rng.normal(0, wobble / 2, size=freqs.shape))
    phases = phases + rng.normal(0, wobble, size=phases.shape)
    u = np.linspace(0, 1, n_points)
    x = (amps[0] * np.sin(2 * np.pi * freqs[0] * u[:, None] + phases[0])).sum(1) * 1000 + 5000 + u * 3000
    y = (amps[1] * np.sin(2 * np.pi * freqs[1] * u[:, None] + phases[1])).sum(1) * 1000 + 4000
    step = 14.0 if forged else 10.0
    t = 1_000_000 + np.arange(n_points) * step
    pen = np.ones(n_points)
    pen[[0, n_points // 2, -1]] = 0
    pressure = 500 + 300 * np.sin(2 * np.pi * (freqs[0, 0]) * u + writer)
    azimuth = np.full(n_points, 1500.0)
    altitude = np.full(n_points, 700.0)
    points = np.stack([x, y, t, pen, azimuth, altitude, pressure], axis=1).round()
    return Trajectory(points, SVC2004_COLUMNS, f"U{writer}S{session}")


def synthetic_records(writers: range | list[int], sessions: range = range(1, 41)) -> list[SignatureRecord]:
    return [SignatureRecord(w, s, synthetic_signature(w, s)) for w in writers for s in sessions]


def svc2004_text(trajectory: Trajectory) -> str:
    rows = [" ".join(str(int(v)) for v in row) for row in trajectory.points]
    return "\r\n".join([str(len(rows)), *rows]) + "\r\n"


def write_svc2004_folder(folder: Path, writers: range | list[int]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for record in synthetic_records(writers):
        (folder / f"U{record.writer}S{record.session}.TXT").write_text(
            svc2004_text(record.trajectory), newline=""
        )
    return folder
