"""The cross-encoder: one transformer reads both questions together, `[CLS] q1 [SEP] q2 [SEP]`, and a linear
head on the mean of its output gives the logit of "duplicate".

A Siamese encoder sees each question alone and meets the other only in a cosine; here every token of one
question attends to every token of the other, which is what tells "Where are you from?" from "Where are you
going?". It costs one transformer pass per pair instead of one per question, so it verifies the few
candidates an index found rather than searching. It starts from all-MiniLM-L6-v2's transformer; the head
reads the mean of the positions because that is how the sentence model was trained to summarise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from siamdup.verify.extra import import_transformers

HEAD_DROPOUT = 0.1


@dataclass
class CrossEncoderConfig:
    hf_config: dict  # the Hugging Face model config (BERT family), as in its config.json
    cls_id: int
    sep_id: int
    pad_id: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PairInputs:
    """A padded batch of pairs: token ids, attention mask and segment ids, each (batch, time) int64."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor

    def to(self, device: torch.device | str) -> PairInputs:
        return PairInputs(*(t.to(device) for t in (self.input_ids, self.attention_mask, self.token_type_ids)))


def pair_inputs(
    first: Sequence[Sequence[int]], second: Sequence[Sequence[int]], config: CrossEncoderConfig
) -> PairInputs:
    """`[CLS] a [SEP] b [SEP]` for each pair of token-id lists (no special tokens, already truncated),
    right-padded to the batch's longest pair; segment 0 is [CLS] a [SEP], segment 1 is b [SEP]."""
    lengths = [len(a) + len(b) + 3 for a, b in zip(first, second, strict=True)]
    ids = np.full((len(lengths), max(lengths)), config.pad_id, dtype=np.int64)
    mask = np.zeros_like(ids)
    segments = np.zeros_like(ids)
    for row, (a, b) in enumerate(zip(first, second, strict=True)):
        tokens = [config.cls_id, *a, config.sep_id, *b, config.sep_id]
        ids[row, : len(tokens)] = tokens
        mask[row, : len(tokens)] = 1
        segments[row, len(a) + 2 : len(tokens)] = 1
    return PairInputs(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(segments))


class CrossEncoder(nn.Module):
    """Pairs of questions in, one logit of P(duplicate) per pair out."""

    def __init__(self, config: CrossEncoderConfig, weights_from: str | None = None) -> None:
        """A network of the config's shape, randomly initialised, or with the pretrained transformer of the
        Hugging Face model folder `weights_from` (read locally; nothing is downloaded)."""
        super().__init__()
        transformers = import_transformers()
        self.config = config
        hf = dict(config.hf_config)
        hf_config = transformers.AutoConfig.for_model(hf.pop("model_type"), **hf)
        if weights_from is None:
            self.transformer = transformers.AutoModel.from_config(hf_config, add_pooling_layer=False)
        else:
            self.transformer = transformers.AutoModel.from_pretrained(
                weights_from, config=hf_config, add_pooling_layer=False, local_files_only=True
            )
        self.dropout = nn.Dropout(HEAD_DROPOUT)
        self.head = nn.Linear(int(config.hf_config["hidden_size"]), 1)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        """(batch, time) int64 each -> (batch,) float32 logits."""
        hidden = self.transformer(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
        ).last_hidden_state
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1)
        return self.head(self.dropout(pooled)).squeeze(-1).float()

    def score_inputs(self, inputs: PairInputs) -> torch.Tensor:
        return self(inputs.input_ids, inputs.attention_mask, inputs.token_type_ids)
