"""The twin encoder: tokens -> Embedding -> LSTM -> mean over real (non-pad) positions -> L2 normalise
(optionally mean and max side by side: `EncoderConfig.pooling`).

One `LSTMEncoder` encodes both questions of a pair (shared weights), so the cosine similarity of two
questions is the dot product of their vectors.

Speed: the batch is cut into buckets of similar length, each trimmed to its own longest question, so the
LSTM runs over little padding; on the CPU each bucket then takes oneDNN's fused LSTM kernel (packed
sequences would fall back to a slower step-by-step path). A backward direction reads each question
reversed in place (padding stays on the right), so no direction ever sees padding and the result is
exactly that of running every question on its own.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn

# Below this many rows an LSTM step's matrix product runs no faster than with this many: a bucket costs
# about (its longest length) x max(rows, EFFICIENT_ROWS) (measured with oneDNN on 2 CPU cores).
EFFICIENT_ROWS = 64
MAX_BUCKETS = 8
POOLINGS = ("mean", "mean+max")


def check_pooling(pooling: str) -> None:
    """A clear error for a pooling name the encoder does not have."""
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}: use {' or '.join(POOLINGS)}")


@dataclass
class EncoderConfig:
    vocab_size: int
    d_model: int = 128  # embedding size and LSTM hidden size, as in the reference design
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # on embeddings and between LSTM layers, training only
    pad_id: int = 0
    # Width of the token embeddings when it differs from d_model (pretrained ones: MiniLM's are 384);
    # a linear layer then maps them to d_model. None: embeddings are d_model wide, no projection.
    embedding_dim: int | None = None
    # "mean" (the reference design) or "mean+max": the mean and the max over real positions, side by side
    # (vectors 2 x d_model wide), as InferSent found max pooling to help.
    pooling: str = "mean"

    def __post_init__(self) -> None:
        check_pooling(self.pooling)

    def to_dict(self) -> dict:
        # Settings at their first value are left out, so earlier models' configs and fingerprints stay the same.
        d = asdict(self)
        if d["embedding_dim"] is None:
            del d["embedding_dim"]
        if d["pooling"] == "mean":
            del d["pooling"]
        return d


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each row's first lengths[i] positions of x (batch, time, dim), leaving the padding after."""
    time = torch.arange(x.shape[1], device=x.device).unsqueeze(0)
    lengths = lengths.unsqueeze(1)
    index = torch.where(time < lengths, lengths - 1 - time, time)
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def length_buckets(lengths: torch.Tensor, efficient_rows: int = EFFICIENT_ROWS) -> list[torch.Tensor]:
    """Row indices grouped by similar length: the rows sorted by length, cut into 1, 2, 4 or 8 equal
    groups, whichever costs least. A random batch gets several buckets; an already sorted one, few.
    `efficient_rows`: below this many rows a bucket runs no faster (the encoder's own measure)."""
    order = torch.argsort(lengths, stable=True)
    sorted_lengths = lengths[order].tolist()
    best, best_cost = [order], float("inf")
    n_buckets = 1
    while n_buckets <= MAX_BUCKETS and n_buckets <= len(order):
        buckets = list(order.tensor_split(n_buckets))
        bounds = list(itertools.accumulate(len(b) for b in buckets))
        cost = sum(
            sorted_lengths[end - 1] * max(len(b), efficient_rows)
            for b, end in zip(buckets, bounds, strict=True)
        )
        if cost < best_cost:
            best, best_cost = buckets, cost
        n_buckets *= 2
    return best


class LSTMEncoder(nn.Module):
    """Encodes a padded batch of token ids (right-padded with `pad_id`) into unit vectors."""

    architecture = "lstm"

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        self.config = config
        hidden = config.d_model // 2 if config.bidirectional else config.d_model
        embedding_dim = config.embedding_dim or config.d_model
        self.embedding = nn.Embedding(config.vocab_size, embedding_dim, padding_idx=config.pad_id)
        self.project = nn.Linear(embedding_dim, config.d_model) if embedding_dim != config.d_model else None
        self.dropout = nn.Dropout(config.dropout)
        # Holds the weights (and names them in saved models); forward runs them layer by layer.
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
        return self.config.d_model * (2 if self.config.pooling == "mean+max" else 1)

    def folded(self) -> LSTMEncoder:
        """The same encoder with the projection folded into the embedding table: at inference a token's
        vector is project(embedding[token]) whatever its context, so the table can hold that directly.
        The vectors are the same; the table shrinks from embedding_dim to d_model wide (MiniLM's 384 -> 128)."""
        if self.project is None:
            return self
        config = replace(self.config, embedding_dim=None)
        folded = LSTMEncoder(config).to(self.embedding.weight.device)
        with torch.no_grad():
            folded.embedding.weight.copy_(self.project(self.embedding.weight))
        folded.lstm.load_state_dict(self.lstm.state_dict())
        return folded.train(self.training)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids: (batch, time) long, lengths: (batch,) long >= 1 -> (batch, d_model) unit vectors."""
        lengths = lengths.to(ids.device)
        buckets = length_buckets(lengths)
        pieces = [ids[rows, : int(lengths[rows].max())] for rows in buckets]
        # One embedding lookup for all buckets: its backward pass builds a gradient the size of the whole
        # vocabulary, which per bucket would be built and zero-filled up to eight times.
        embedded = self.embedding(torch.cat([p.reshape(-1) for p in pieces])).split(
            [p.numel() for p in pieces]
        )
        pooled = [
            self._encode(e.view(*p.shape, -1), lengths[rows])
            for e, p, rows in zip(embedded, pieces, buckets, strict=True)
        ]
        out = torch.empty(len(ids), self.dim, dtype=pooled[0].dtype, device=ids.device)
        return out.index_copy(0, torch.cat(buckets), torch.cat(pooled))

    def _encode(self, embedded: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # Project first, then drop out: the same regularisation on 3x fewer numbers for 384-d embeddings.
        x = self.dropout(self.project(embedded) if self.project is not None else embedded)
        directions = ["", "_reverse"] if self.config.bidirectional else [""]
        for layer in range(self.config.num_layers):
            if layer > 0:  # as nn.LSTM does: dropout between layers, not after the last
                x = nn.functional.dropout(x, self.lstm.dropout, self.training)
            x = torch.cat([self._run(x, lengths, f"l{layer}{d}", bool(d)) for d in directions], dim=-1)
        # Pool and normalise in float32 also under bfloat16 autocast: 8 bits of mantissa would blur cosines.
        x = x.float()
        # From the lengths, not the ids: a pretrained vocabulary's [PAD] id can also come out of real text.
        positions = torch.arange(x.shape[1], device=x.device)
        mask = (positions < lengths.unsqueeze(1)).unsqueeze(-1).to(x.dtype)
        pooled = (x * mask).sum(dim=1) / lengths.unsqueeze(1).to(x.dtype)
        if self.config.pooling == "mean+max":
            pooled = torch.cat([pooled, x.masked_fill(mask == 0, float("-inf")).amax(dim=1)], dim=-1)
        return nn.functional.normalize(pooled, p=2, dim=-1)

    def _run(self, x: torch.Tensor, lengths: torch.Tensor, suffix: str, reverse: bool) -> torch.Tensor:
        """One direction of one layer. A forward LSTM's output at t depends only on positions <= t, so
        right-padding never reaches a real position; a backward one reads the reversed question."""
        weights = [
            getattr(self.lstm, f"{name}_{suffix}")
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        if reverse:
            x = reverse_padded(x, lengths)
        h0 = x.new_zeros(1, x.shape[0], self.lstm.hidden_size)
        out, _, _ = torch.lstm(x, (h0, h0), weights, True, 1, 0.0, self.training, False, True)
        return reverse_padded(out, lengths) if reverse else out
