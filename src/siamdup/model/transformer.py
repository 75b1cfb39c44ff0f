"""The twin encoder as a pretrained transformer: tokens -> [CLS] tokens [SEP] -> BERT-style transformer ->
mean over real positions -> L2 normalise. It is all-MiniLM-L6-v2's own sentence embedding (the
sentence-transformers model pools the same way), fine-tuned by siamdup's training loop and losses.

It takes the same input as `LSTMEncoder` (right-padded token ids without special tokens, and their
lengths) and adds [CLS] and [SEP] itself, so tokenizing, batching, evaluation, the index and the service
work unchanged. Needs Hugging Face `transformers` (`pip install "siamdup[transformers]"`), imported only
when a transformer model is built or loaded.

Speed on the CPU: the batch is cut into buckets of similar length (as in the LSTM encoder), and with
`bf16` the matrix products run in bfloat16 under autocast (weights stay float32); on CPUs with AVX-512
BF16 (AMD Zen 4, Intel Sapphire Rapids) and on recent GPUs that roughly doubles the speed of training.
Where the hardware lacks bfloat16 it would be emulated, far slower, so there it runs in float32.
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from siamdup.model.encoder import length_buckets
from siamdup.model.precision import bf16_supported

# A transformer bucket of this many rows already keeps the matrix units busy: each row is many tokens.
EFFICIENT_ROWS = 16
# Keys of a Hugging Face config that describe where it came from, not the network.
PROVENANCE_KEYS = ("_name_or_path", "transformers_version", "architectures", "dtype", "torch_dtype")


def import_transformers():
    try:
        import transformers
    except ImportError as e:
        raise ImportError(
            'transformer encoders need Hugging Face transformers: pip install "siamdup[transformers]"'
        ) from e
    # Its load reports and bars would interleave with ours.
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return transformers


@dataclass
class TransformerConfig:
    hf_config: dict  # the Hugging Face model config (BERT family), as in its config.json
    cls_id: int
    sep_id: int
    pad_id: int
    bf16: bool = True  # run the transformer under bfloat16 autocast where the hardware has bfloat16

    def to_dict(self) -> dict:
        return asdict(self)


class TransformerEncoder(nn.Module):
    """Encodes a padded batch of token ids (right-padded, no special tokens) into unit vectors."""

    architecture = "transformer"

    def __init__(self, config: TransformerConfig, weights_from: str | Path | None = None) -> None:
        """A network of the config's shape, randomly initialised, or with the pretrained weights of the
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
                str(weights_from), config=hf_config, add_pooling_layer=False, local_files_only=True
            )

    @classmethod
    def from_pretrained(
        cls, folder: str | Path, cls_id: int, sep_id: int, pad_id: int, load_weights: bool = True
    ) -> TransformerEncoder:
        """The pretrained model in a Hugging Face folder (config.json + model.safetensors); without
        `load_weights`, only its shape (for weights loaded from a checkpoint)."""
        transformers = import_transformers()
        hf_config = transformers.AutoConfig.from_pretrained(str(folder), local_files_only=True).to_dict()
        for key in PROVENANCE_KEYS:
            hf_config.pop(key, None)
        config = TransformerConfig(hf_config=hf_config, cls_id=cls_id, sep_id=sep_id, pad_id=pad_id)
        return cls(config, weights_from=folder if load_weights else None)

    @property
    def dim(self) -> int:
        return int(self.config.hf_config["hidden_size"])

    def folded(self) -> TransformerEncoder:
        return self  # nothing to fold: every weight is used as it is

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """ids: (batch, time) long, lengths: (batch,) long >= 1 -> (batch, hidden_size) unit vectors."""
        lengths = lengths.to(ids.device)
        buckets = length_buckets(lengths, EFFICIENT_ROWS)
        pooled = [self._encode(ids[rows, : int(lengths[rows].max())], lengths[rows]) for rows in buckets]
        out = torch.empty(len(ids), self.dim, dtype=pooled[0].dtype, device=ids.device)
        return out.index_copy(0, torch.cat(buckets), torch.cat(pooled))

    def _encode(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        rows, time = ids.shape
        with_special = lengths + 2
        mask = torch.arange(time + 2, device=ids.device).unsqueeze(0) < with_special.unsqueeze(1)
        tokens = torch.full((rows, time + 2), self.config.pad_id, dtype=ids.dtype, device=ids.device)
        tokens[:, 1 : time + 1] = ids
        tokens[:, 0] = self.config.cls_id
        tokens[torch.arange(rows, device=ids.device), lengths + 1] = self.config.sep_id
        tokens = tokens.masked_fill(~mask, self.config.pad_id)
        autocast = (
            torch.autocast(ids.device.type, dtype=torch.bfloat16)
            if self.config.bf16 and bf16_supported(ids.device.type)
            else contextlib.nullcontext()
        )
        with autocast:
            hidden = self.transformer(input_ids=tokens, attention_mask=mask.long()).last_hidden_state
        # As sentence-transformers pools all-MiniLM-L6-v2: [CLS] and [SEP] count among the positions.
        weights = mask.unsqueeze(-1).to(torch.float32)
        pooled = (hidden.float() * weights).sum(dim=1) / with_special.unsqueeze(1).to(torch.float32)
        return nn.functional.normalize(pooled, p=2, dim=-1)
