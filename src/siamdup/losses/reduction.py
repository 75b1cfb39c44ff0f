"""How a loss turns its per-row values into one number."""

from __future__ import annotations

import torch

REDUCTIONS = ("sum", "mean")


def reduce(per_row: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "sum":
        return per_row.sum()
    if reduction == "mean":
        return per_row.mean()
    raise ValueError(f"unknown reduction {reduction!r}: use one of {', '.join(REDUCTIONS)}")
