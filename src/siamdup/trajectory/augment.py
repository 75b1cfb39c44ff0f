"""Random changes a writer's hand makes anyway, applied to training signatures: a slightly different
size, slant and aspect, a little faster or slower in places, a few points more or less at each end."""

from __future__ import annotations

import numpy as np

from siamdup.trajectory.points import Trajectory

SCALE = 0.1  # relative change of size
ROTATION = 0.1  # radians
SHEAR = 0.1
TIME_WARP = 0.1  # relative change of local writing speed
TRIM = 0.03  # share of points that may be cut at each end


def augment(trajectory: Trajectory, rng: np.random.Generator) -> Trajectory:
    """A randomly distorted copy (the original is left unchanged)."""
    points = trajectory.points.copy()
    n = len(points)
    cut_start = int(rng.integers(0, int(n * TRIM) + 1))
    cut_end = n - int(rng.integers(0, int(n * TRIM) + 1))
    if cut_end - cut_start >= 2:
        points = points[cut_start:cut_end]
    angle = rng.uniform(-ROTATION, ROTATION)
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    shear = np.array([[1.0, rng.uniform(-SHEAR, SHEAR)], [0.0, 1.0]])
    scale = np.diag(1 + rng.uniform(-SCALE, SCALE, size=2))
    xy = points[:, :2]
    centre = xy.mean(axis=0)
    points[:, :2] = (xy - centre) @ (rotate @ shear @ scale).T + centre
    t = np.maximum.accumulate(points[:, 2] - points[0, 2])
    # A smooth speed change: the time axis bent by a low-frequency random curve, kept increasing.
    phase = rng.uniform(0, 2 * np.pi)
    warp = 1 + TIME_WARP * np.sin(2 * np.pi * t / (t[-1] + 1e-9) + phase)
    steps = np.diff(t, prepend=0.0) * warp
    points[:, 2] = np.cumsum(steps)
    return Trajectory(points, trajectory.columns, trajectory.source)
