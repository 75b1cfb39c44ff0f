"""The learning-rate schedule: linear warm-up, then cosine decay to a floor by the last step or by the end of
the time budget, whichever comes first."""

from __future__ import annotations

import math

from siamdup.training.settings import TrainConfig


def budget_seconds(config: TrainConfig) -> float:
    """The training time allowed, in seconds (infinite without max_minutes)."""
    return 60 * config.max_minutes if config.max_minutes is not None else math.inf


def lr_at(step: int, total_steps: int, config: TrainConfig, time_used: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio · lr at total_steps or when the time budget is
    spent, whichever comes first: `time_used` is the share of max_minutes already trained. On a machine
    too slow for every epoch, the run still ends annealed instead of being cut off at a high rate."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    by_steps = (step - config.warmup_steps) / max(1, total_steps - config.warmup_steps)
    progress = min(1.0, max(by_steps, time_used))
    floor = config.lr * config.min_lr_ratio
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
