"""Synthetic pen trajectories for the signature tests: each writer a curve of their own, each signature
of a writer that curve with small jitter, a forgery of it the same curve drawn with larger distortions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from siamdup.trajectory.points import Trajectory

COLUMNS = ("x", "y", "t", "pen_down", "pressure")


def signature(writer: int, sample: int, points: int = 120, distortion: float = 0.02) -> Trajectory:
    """Writer `writer`'s curve (two strokes, with a pen lift between), jittered by `sample`."""
    shape = np.random.default_rng(writer)
    a, b = shape.uniform(1, 4, size=2)
    phase = shape.uniform(0, np.pi)
    rng = np.random.default_rng(1000 * writer + sample)
    s = np.linspace(0, 2 * np.pi, points)
    x = 3000 + 1500 * np.cos(a * s + phase) + 400 * s + rng.normal(0, distortion * 1500, points)
    y = 4000 + 1000 * np.sin(b * s) + rng.normal(0, distortion * 1000, points)
    t = 1_000_000 + 10.0 * np.arange(points)
    pen = np.ones(points)
    pen[[0, points // 2]] = 0  # where the pen landed, as SVC2004 marks it
    pressure = 400 + 300 * np.sin(s * a) ** 2 + rng.normal(0, 10, points)
    return Trajectory(np.stack([x, y, t, pen, pressure], axis=1), COLUMNS, f"w{writer}s{sample}")


def write_svc2004(trajectory: Trajectory, path: Path) -> Path:
    """The trajectory as an SVC2004 Task 2 file (azimuth and altitude made up)."""
    rows = [f"{x:.0f} {y:.0f} {t:.0f} {pen:.0f} 1000 600 {p:.0f}" for x, y, t, pen, p in trajectory.points]
    path.write_text(f"{len(rows)}\r\n" + "\r\n".join(rows) + "\r\n")
    return path
