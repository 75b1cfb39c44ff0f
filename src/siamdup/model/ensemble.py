"""Several trained encoders as one: each member's unit vector, scaled by the square root of its weight,
side by side.

With weights summing to 1 the joined vector is a unit vector too, and the dot product of two of them is
the weighted mean of the members' cosines: Σ wᵢ cos(aᵢ, bᵢ). So an ensemble is still a bi-encoder (one
vector per question, compared by cosine): τ, the index and the service work on it unchanged. Members
must read the same tokens (one tokenizer feeds them all); `siamdup ensemble` checks that and tunes the
weights and τ on dev pairs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import torch
from torch import nn

if TYPE_CHECKING:
    from siamdup.model.siamese import Encoder


def check_weights(weights: list[float], n_members: int) -> None:
    """A clear error unless there are two or more members, each with a weight >= 0, summing to 1."""
    if n_members < 2 or n_members != len(weights):
        raise ValueError(
            f"an ensemble needs two or more members and a weight for each, got "
            f"{n_members} members and {len(weights)} weights"
        )
    if any(w < 0 for w in weights) or not math.isclose(sum(weights), 1.0, abs_tol=1e-6):
        raise ValueError(f"ensemble weights must be >= 0 and sum to 1, got {list(weights)}")


@dataclass
class EnsembleConfig:
    members: list[dict]  # each {"architecture": ..., "encoder": {...}}, as in a model's config.json
    weights: list[float]  # one per member, >= 0, summing to 1

    def __post_init__(self) -> None:
        check_weights(self.weights, len(self.members))

    def to_dict(self) -> dict:
        return {"members": self.members, "weights": self.weights}


class EnsembleEncoder(nn.Module):
    """Encodes a padded batch with every member and joins the weighted unit vectors (see the module)."""

    architecture = "ensemble"

    def __init__(self, members: Sequence[Encoder], weights: list[float]) -> None:
        config = EnsembleConfig(
            members=[{"architecture": m.architecture, "encoder": m.config.to_dict()} for m in members],
            weights=[float(w) for w in weights],
        )
        super().__init__()
        self.config: EnsembleConfig = config
        self.members = nn.ModuleList(members)

    def encoders(self) -> list[Encoder]:
        """The members as the encoders they are (`nn.ModuleList` hands them back as plain modules)."""
        return cast("list[Encoder]", list(self.members))

    @property
    def dim(self) -> int:
        return sum(m.dim for m in self.encoders())

    def folded(self) -> EnsembleEncoder:
        return EnsembleEncoder([m.folded() for m in self.encoders()], self.config.weights).train(
            self.training
        )

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids: (batch, time) long, lengths: (batch,) long >= 1 -> (batch, Σ member dims) unit vectors."""
        # Every member pools and normalises in float32, also under autocast.
        return torch.cat(
            [math.sqrt(w) * m(ids, lengths) for m, w in zip(self.members, self.config.weights, strict=True)],
            dim=-1,
        )
