"""What a run trains: the tokenizer and encoder (new, or MiniLM's), its loss and its optimiser."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from siamdup.data.readers import Pair
from siamdup.losses import InBatchSoftmaxLoss, MinedTripletLoss
from siamdup.model.encoder import EncoderConfig, LSTMEncoder
from siamdup.model.siamese import Encoder
from siamdup.pretrained import MINILM_DIM, minilm_encoder, minilm_tokenizer, minilm_word_embeddings
from siamdup.tokenizer import Tokenizer
from siamdup.training.settings import TrainConfig


def make_tokenizer(config: TrainConfig, train_pairs: list[Pair], checkpoint: Path | None) -> Tokenizer:
    """The resumed run's tokenizer, MiniLM's, or a word vocabulary built from the training questions."""
    if checkpoint is not None:
        return Tokenizer.load(checkpoint / "tokenizer.json", max_length=config.max_length)
    if config.embeddings == "minilm":
        return minilm_tokenizer(config.max_length)
    return Tokenizer.train(
        [q for p in train_pairs for q in (p.question1, p.question2)],
        vocab_size=config.vocab_size,
        min_frequency=config.min_frequency,
        max_length=config.max_length,
    )


def make_loss(config: TrainConfig) -> nn.Module:
    if config.loss == "mined-triplet":
        return MinedTripletLoss(margin=config.margin, reduction="mean")
    if config.loss == "in-batch-softmax":
        return InBatchSoftmaxLoss(scale=config.scale)
    raise ValueError(f"unknown loss {config.loss!r}: use mined-triplet or in-batch-softmax")


def make_encoder(config: TrainConfig, tokenizer: Tokenizer, pretrained: bool) -> Encoder:
    """The encoder to train; `pretrained`: start from MiniLM's weights where the config uses them
    (a resumed run loads its own weights instead)."""
    if config.encoder == "minilm":
        return minilm_encoder(pretrained)
    encoder = LSTMEncoder(
        EncoderConfig(
            vocab_size=tokenizer.vocab_size,
            d_model=config.d_model,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            pad_id=tokenizer.pad_id,
            embedding_dim=MINILM_DIM if config.embeddings == "minilm" else None,
            pooling=config.pooling,
        )
    )
    if pretrained and config.embeddings == "minilm":
        with torch.no_grad():
            encoder.embedding.weight.copy_(minilm_word_embeddings())
    return encoder


def parameter_groups(encoder: Encoder, config: TrainConfig) -> list[dict]:
    """The optimiser's parameter groups, each with the share of the scheduled lr it trains at."""
    if not isinstance(encoder, LSTMEncoder) or config.embedding_lr_ratio == 1.0:
        return [{"params": list(encoder.parameters()), "lr_ratio": 1.0}]
    table = encoder.embedding.weight
    return [
        {"params": [table], "lr_ratio": config.embedding_lr_ratio},
        {"params": [p for p in encoder.parameters() if p is not table], "lr_ratio": 1.0},
    ]


def make_optimizer(encoder: Encoder, config: TrainConfig) -> torch.optim.Optimizer:
    # fused: one kernel for the whole update instead of a pass per operation, several times faster on a CPU
    return torch.optim.AdamW(
        parameter_groups(encoder, config), lr=config.lr, weight_decay=config.weight_decay, fused=True
    )
