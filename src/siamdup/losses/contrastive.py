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

    With `balanced=True` the duplicates' mean and the non-duplicates' mean count half each, however few
    pairs of one class a batch holds (a class the batch lacks leaves the other's mean alone); `reduction`
    is then unused.
    """

    def __init__(self, margin: float = 0.5, reduction: str = "mean", balanced: bool = False) -> None:
        super().__init__()
        self.margin = margin
        self.reduction = reduction
        self.balanced = balanced

    def forward(self, a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        distance = 1.0 - (a * b).sum(dim=1)
        labels = labels.to(distance.dtype)
        per_pair = labels * distance.pow(2) + (1 - labels) * torch.relu(self.margin - distance).pow(2)
        if self.balanced:
            # per-class sums over counts, averaged over the classes present: no data-dependent branch, so
            # no host sync on a GPU each step
            is_class = torch.stack([1 - labels, labels])
            counts = is_class.sum(dim=1)
            means = (is_class * per_pair).sum(dim=1) / counts.clamp(min=1)
            present = (counts > 0).to(means.dtype)
            return (means * present).sum() / present.sum()
        return reduce(per_pair, self.reduction)
