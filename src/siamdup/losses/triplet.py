"""The plain triplet loss on explicit (anchor, positive, negative) triples."""

from __future__ import annotations

import torch
from torch import nn

from siamdup.losses.reduction import reduce


class TripletLoss(nn.Module):
    """L = max(s(A, N) − s(A, P) + α, 0) per triple, with s the cosine similarity.

    Inputs: `anchors`, `positives`, `negatives`, each (b, d) unit vectors; row i is one triple.
    """

    def __init__(self, margin: float = 0.25, reduction: str = "sum") -> None:
        super().__init__()
        self.margin = margin
        self.reduction = reduction

    def forward(
        self, anchors: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor
    ) -> torch.Tensor:
        s_ap = (anchors * positives).sum(dim=1)
        s_an = (anchors * negatives).sum(dim=1)
        return reduce(torch.relu(s_an - s_ap + self.margin), self.reduction)
