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
    progress = (step - config.warmup_steps) / max(1, total_steps - config.warmup_steps)
    # The clock steers the decay only while it runs ahead of the steps, i.e. while the epochs are not on
    # course to fit the budget. Compared with the decay's own progress instead, it would win on the first
    # steps after the warm-up (whose progress is near 0) in every run, making the schedule, and so the
    # model, depend on how busy the machine was: the same seed would no longer give the same run.
    if time_used > step / max(1, total_steps):
        progress = max(progress, time_used)
    progress = min(1.0, progress)
    floor = config.lr * config.min_lr_ratio
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))
