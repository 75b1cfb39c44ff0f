"""The reference loss: triplet loss with hard negative mining inside the batch (mean + closest negative)."""

from __future__ import annotations

import torch
from torch import nn

from siamdup.losses.reduction import reduce


class MinedTripletLoss(nn.Module):
    """Triplet loss mined from the batch similarity matrix, as the reference design defines it.

    Inputs: `anchors` (b, d) and `positives` (b, d) unit vectors, row i of each a duplicate pair, and
    optionally `negatives` (m, d) extra unit vectors known not to duplicate any anchor. The similarity
    matrix is S = anchors · [positives; negatives]ᵀ, shape (b, b + m): S[i, i] is the positive of row i and
    every other cell of row i is a negative (the batch sampler guarantees it).

    Per row i, with margin α:
      mean_neg    = mean of the negatives of row i
      closest_neg = the largest negative of row i that is still smaller than S[i, i]
      L1 = max(mean_neg − S[i, i] + α, 0),  L2 = max(closest_neg − S[i, i] + α, 0)
    and the loss is Σᵢ (L1 + L2) (`reduction="sum"`, the reference) or its mean over rows.

    A row where no negative is smaller than S[i, i] has no closest negative: its L2 is 0, and its L1
    (every negative is above the positive there, so the mean is too) carries the whole signal.

    `rows` scores only those rows of the batch: a process of a distributed run scores its own rows
    against every process's positives and negatives.
    """

    def __init__(
        self,
        margin: float = 0.25,
        reduction: str = "sum",
        mean_negative: bool = True,
        closest_negative: bool = True,
    ) -> None:
        super().__init__()
        if not (mean_negative or closest_negative):
            raise ValueError("MinedTripletLoss needs at least one of mean_negative and closest_negative")
        self.margin = margin
        self.reduction = reduction
        self.mean_negative = mean_negative
        self.closest_negative = closest_negative

    def forward(
        self,
        anchors: torch.Tensor,
        positives: torch.Tensor,
        negatives: torch.Tensor | None = None,
        rows: slice | None = None,
    ) -> torch.Tensor:
        own = rows or slice(0, len(anchors))
        candidates = positives if negatives is None else torch.cat([positives, negatives])
        return self.from_scores(anchors[own] @ candidates.T, first=own.start or 0)

    def from_scores(self, scores: torch.Tensor, first: int = 0) -> torch.Tensor:
        """The loss of a similarity matrix (b, n) whose row i has its positive in column `first` + i
        (the diagonal by default); n ≥ first + b."""
        b, n = scores.shape
        if n < first + b or b < 1 or n < 2:
            least = f"b + {first}" if first else "b"
            raise ValueError(f"scores must be (b, n) with n >= {least} and n >= 2, got {tuple(scores.shape)}")
        positive = scores.diagonal(first)
        is_positive = torch.zeros_like(scores, dtype=torch.bool)
        is_positive[:, first : first + b] = torch.eye(b, dtype=torch.bool, device=scores.device)
        per_row = torch.zeros_like(positive)
        if self.mean_negative:
            mean_neg = scores.masked_fill(is_positive, 0.0).sum(dim=1) / (n - 1)
            per_row = per_row + torch.relu(mean_neg - positive + self.margin)
        if self.closest_negative:
            below = ~is_positive & (scores < positive.unsqueeze(1))
            closest_neg = scores.masked_fill(~below, float("-inf")).max(dim=1).values
            l2 = torch.relu(closest_neg - positive + self.margin)
            per_row = per_row + torch.where(below.any(dim=1), l2, torch.zeros_like(l2))
        return reduce(per_row, self.reduction)
