"""In-batch softmax (multiple-negatives ranking) loss: pick the positive among all candidates of the row."""

from __future__ import annotations

import torch
from torch import nn

from siamdup.losses.reduction import reduce


class InBatchSoftmaxLoss(nn.Module):
    """Cross-entropy over each row of scale · S, the positive S[i, i] being the right answer.

    Inputs: `anchors` (b, d), `positives` (b, d) and optional extra `negatives` (m, d), all unit vectors,
    with the same guarantee as `MinedTripletLoss`: every cell of S but the diagonal is a negative.
    With `symmetric=True` the columns are scored too (each positive picks its anchor among the anchors).

    `rows` scores only those rows (and their columns) of the batch: a process of a distributed run scores
    its own rows against every process's anchors, positives and negatives.
    """

    def __init__(self, scale: float = 20.0, symmetric: bool = True, reduction: str = "mean") -> None:
        super().__init__()
        self.scale = scale
        self.symmetric = symmetric
        self.reduction = reduction

    def forward(
        self,
        anchors: torch.Tensor,
        positives: torch.Tensor,
        negatives: torch.Tensor | None = None,
        rows: slice | None = None,
    ) -> torch.Tensor:
        own = rows or slice(0, len(anchors))
        candidates = positives if negatives is None else torch.cat([positives, negatives])
        logits = self.scale * anchors[own] @ candidates.T
        target = torch.arange(len(anchors), device=anchors.device)[own]
        per_row = nn.functional.cross_entropy(logits, target, reduction="none")
        if self.symmetric:
            columns = self.scale * positives[own] @ anchors.T
            per_row = (per_row + nn.functional.cross_entropy(columns, target, reduction="none")) / 2
        return reduce(per_row, self.reduction)
