"""From a `Trajectory` to what the encoder reads: a fixed number of time steps, each a few features.

Steps: time stamps made non-decreasing (a device's clock can step back a few ms), the points resampled
at a fixed count evenly in time (pen-up gaps the tablet did not sample are bridged in a straight line),
position moved to the centre and scaled by its spread, then per step the channels `FeatureConfig`
names: position, velocity (Δx, Δy per step), speed, acceleration, direction, curvature (the turn of
the direction per step), pressure and pen state. With `standardise`, each channel is then z-normalised
over the signature's own steps (what DTW verifiers compare: the shape of each channel, not its scale).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from siamdup.trajectory.points import Trajectory

CHANNELS = (
    "x",
    "y",
    "dx",
    "dy",
    "speed",
    "ddx",
    "ddy",
    "cos",
    "sin",
    "pressure",
    "dpressure",
    "pen_down",
    "vx",
    "vy",
    "duration",
    "curvature",
)
DEFAULT_CHANNELS = ("vx", "vy", "pressure", "pen_down", "duration")
VELOCITY_SCALE = 30.0  # Δ per step of a unit-spread signature is ~1/length; this brings it near 1
EPS = 1e-6


@dataclass
class FeatureConfig:
    length: int = 128  # time steps after resampling
    channels: tuple[str, ...] = field(default_factory=lambda: DEFAULT_CHANNELS)
    standardise: bool = False  # z-normalise each channel over the signature's steps

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown or not self.channels:
            raise ValueError(f"unknown feature channel(s) {unknown}: choose from {', '.join(CHANNELS)}")
        if self.length < 4:
            raise ValueError(f"length must be at least 4 time steps, got {self.length}")

    @property
    def width(self) -> int:
        return len(self.channels)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        if not self.standardise:  # the settings saved before the option existed, unchanged
            del d["standardise"]
        return d


def monotonic_time(t: np.ndarray) -> np.ndarray:
    """Time stamps from 0, never stepping back (a step back is read as no time passing)."""
    t = np.maximum.accumulate(t - t[0])
    if t[-1] <= 0:  # no clock at all: one step per point
        return np.arange(len(t), dtype=np.float64)
    return t


def resample(trajectory: Trajectory, length: int) -> dict[str, np.ndarray]:
    """x, y, pressure, pen_down at `length` instants spread evenly over the writing time, and that
    time (ms)."""
    t = monotonic_time(trajectory.column("t"))
    # Equal time stamps (a clock that stepped back) would make np.interp ambiguous: nudge them apart.
    t = t + np.arange(len(t)) * EPS
    grid = np.linspace(t[0], t[-1], length)
    pen = trajectory.column("pen_down")
    pressure = trajectory.column("pressure") if trajectory.has("pressure") else pen
    return {
        "x": np.interp(grid, t, trajectory.column("x")),
        "y": np.interp(grid, t, trajectory.column("y")),
        "pressure": np.interp(grid, t, pressure),
        "pen_down": np.interp(grid, t, pen),
        "duration": np.full(length, t[-1]),
    }


def features(trajectory: Trajectory, config: FeatureConfig) -> np.ndarray:
    """(config.length, config.width) float32: the channels of `config`, in its order."""
    r = resample(trajectory, config.length)
    x, y = r["x"] - r["x"].mean(), r["y"] - r["y"].mean()
    spread = np.sqrt((x**2 + y**2).mean()) + EPS
    x, y = x / spread, y / spread
    dx, dy = _step(x) * VELOCITY_SCALE, _step(y) * VELOCITY_SCALE
    speed = np.hypot(dx, dy)
    pressure = r["pressure"] / (np.abs(r["pressure"]).max() + EPS)
    values = {
        "x": x,
        "y": y,
        "dx": dx,
        "dy": dy,
        "speed": speed,
        "ddx": _step(dx),
        "ddy": _step(dy),
        "cos": dx / (speed + EPS),
        "sin": dy / (speed + EPS),
        "pressure": pressure,
        "dpressure": _step(pressure) * VELOCITY_SCALE / 4,
        "pen_down": r["pen_down"],
        # Velocity in real time (spreads per 100 ms) and the writing time: forgers write slower, which
        # the per-step deltas of a fixed number of steps cannot show.
        "vx": dx / VELOCITY_SCALE / (r["duration"] / (config.length - 1) + EPS) * 100,
        "vy": dy / VELOCITY_SCALE / (r["duration"] / (config.length - 1) + EPS) * 100,
        "duration": np.log(r["duration"] / 1000 + EPS),
        "curvature": _turn(dx, dy),
    }
    out = np.stack([values[c] for c in config.channels], axis=1)
    if config.standardise:
        out = (out - out.mean(axis=0)) / (out.std(axis=0) + EPS)
    return out.astype(np.float32)


def feature_batch(trajectories: list[Trajectory], config: FeatureConfig) -> np.ndarray:
    """(n, config.length, config.width) float32 for a list of trajectories."""
    out = np.empty((len(trajectories), config.length, config.width), dtype=np.float32)
    for i, trajectory in enumerate(trajectories):
        out[i] = features(trajectory, config)
    return out


def _turn(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """The change of writing direction from the previous step, in radians within (-π, π]."""
    angle = np.arctan2(dy, dx)
    return np.angle(np.exp(1j * _step(angle)))


def _step(v: np.ndarray) -> np.ndarray:
    """The change from the previous step (0 at the first), so every channel keeps the same length."""
    return np.diff(v, prepend=v[:1])
