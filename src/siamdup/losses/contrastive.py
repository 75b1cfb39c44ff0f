"""Contrastive loss on labelled pairs (Hadsell, Chopra & LeCun 2006), on cosine distance."""

from __future__ import annotations

import torch
from torch import nn

from siamdup.losses.reduction import reduce


class ContrastiveLoss(nn.Module):
    """Pulls duplicates together and pushes non-duplicates apart, in absolute terms.

    Inputs: `a` (k, d) and `b` (k, d) unit vectors, row i one labelled pair, and `labels` (k,) with 1 for
    duplicates and 0 for non-duplicates. With d = 1 − cos(a, b):
        duplicate:      d²
        non-duplicate:  max(margin − d, 0)²
    Unlike the in-batch losses, which only rank candidates against each other, this one sets where the
    similarities lie, which is what a single decision threshold τ needs.
    """

    def __init__(self, margin: float = 0.5, reduction: str = "mean") -> None:
        super().__init__()
        self.margin = margin
        self.reduction = reduction

    def forward(self, a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        distance = 1.0 - (a * b).sum(dim=1)
        labels = labels.to(distance.dtype)
        per_pair = labels * distance.pow(2) + (1 - labels) * torch.relu(self.margin - distance).pow(2)
        return reduce(per_pair, self.reduction)
