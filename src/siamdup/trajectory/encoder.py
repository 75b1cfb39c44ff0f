"""The trajectory front of the reference design: per-step features -> linear -> (Bi)LSTM -> mean over
positions -> L2 normalise. Inputs are resampled to a fixed number of steps (`features`), so a batch has
no padding and nn.LSTM runs its fused kernel over the whole batch at once."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class TrajectoryEncoderConfig:
    in_features: int
    d_model: int = 64  # width of the projected steps, the LSTM state (both directions) and the vectors
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.0  # on the projected steps and between LSTM layers, training only

    def to_dict(self) -> dict:
        return asdict(self)


class TrajectoryEncoder(nn.Module):
    """Encodes (batch, steps, in_features) feature arrays into (batch, d_model) unit vectors."""

    architecture = "trajectory-lstm"

    def __init__(self, config: TrajectoryEncoderConfig) -> None:
        super().__init__()
        if config.bidirectional and config.d_model % 2:
            raise ValueError(f"a bidirectional encoder needs an even d_model, got {config.d_model}")
        self.config = config
        self.project = nn.Linear(config.in_features, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.d_model,
            config.d_model // 2 if config.bidirectional else config.d_model,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )

    @property
    def dim(self) -> int:
        return self.config.d_model

    def forward(self, steps: torch.Tensor) -> torch.Tensor:
        x = self.dropout(torch.tanh(self.project(steps)))
        out, _ = self.lstm(x)
        return nn.functional.normalize(out.mean(dim=1), p=2, dim=-1)
