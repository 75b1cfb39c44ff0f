"""The twin encoder: tokens -> Embedding -> LSTM -> mean over real (non-pad) positions -> L2 normalise.

One `LSTMEncoder` encodes both questions of a pair (shared weights), so the cosine similarity of two
questions is the dot product of their vectors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


@dataclass
class EncoderConfig:
    vocab_size: int
    d_model: int = 128  # embedding size and LSTM hidden size, as in the reference design
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # on embeddings and between LSTM layers, training only
    pad_id: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMEncoder(nn.Module):
    """Encodes a padded batch of token ids (right-padded with `pad_id`) into unit vectors."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        hidden = config.d_model // 2 if config.bidirectional else config.d_model
        self.embedding = nn.Embedding(config.vocab_size, config.d_model, padding_idx=config.pad_id)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.d_model,
            hidden,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            batch_first=True,
        )

    @property
    def dim(self) -> int:
        return self.config.d_model

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids: (batch, time) long, lengths: (batch,) long >= 1 -> (batch, d_model) unit vectors."""
        x = self.dropout(self.embedding(ids))
        if self.config.bidirectional:
            # The backward direction would read the padding first: pack so it never sees it.
            packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
            out, _ = self.lstm(packed)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])
        else:
            # A forward LSTM's output at position t depends only on positions <= t, so right-padding
            # cannot reach the real positions; the mask below drops the padded ones.
            out, _ = self.lstm(x)
        mask = (ids != self.config.pad_id).unsqueeze(-1).to(out.dtype)
        mean = (out * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return nn.functional.normalize(mean, p=2, dim=-1)
