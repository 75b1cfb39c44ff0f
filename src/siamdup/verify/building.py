"""New verifiers: all-MiniLM-L6-v2's transformer with a fresh head (to train), or a randomly initialised
network of any BERT shape with MiniLM's tokenizer (small ones for tests)."""

from __future__ import annotations

from siamdup.pretrained import minilm_dir, minilm_tokenizer
from siamdup.tokenizer import Tokenizer
from siamdup.verify.cross_encoder import CrossEncoder, CrossEncoderConfig
from siamdup.verify.extra import import_transformers
from siamdup.verify.model import Verifier

# Keys of a Hugging Face config that describe where it came from, not the network.
PROVENANCE_KEYS = ("_name_or_path", "transformers_version", "architectures", "dtype", "torch_dtype")


def special_id(tokenizer: Tokenizer, token: str) -> int:
    token_id = tokenizer.hf.token_to_id(token)
    if token_id is None:
        raise ValueError(f"all-MiniLM-L6-v2's vocabulary has no {token} token")
    return token_id


def new_verifier(
    max_length: int = 64, hf_config: dict | None = None, pretrained: bool = True, layers: int | None = None
) -> Verifier:
    """A verifier reading MiniLM's WordPiece tokens (`max_length` kept per question). Without `hf_config`,
    all-MiniLM-L6-v2's transformer (only its first `layers` layers if given: faster, less accurate), with its
    pretrained weights unless `pretrained` is False (weights about to be loaded from a checkpoint); with
    `hf_config`, a randomly initialised network of that shape."""
    transformers = import_transformers()
    tokenizer = minilm_tokenizer(max_length)
    special = {name: special_id(tokenizer, f"[{name.upper()}]") for name in ("cls", "sep", "pad")}
    weights_from = None
    if hf_config is None:
        folder = minilm_dir()
        hf_config = transformers.AutoConfig.from_pretrained(str(folder), local_files_only=True).to_dict()
        weights_from = str(folder) if pretrained else None
        if layers is not None:
            hf_config["num_hidden_layers"] = layers  # the first `layers` pretrained layers are loaded
    hf_config = {k: v for k, v in hf_config.items() if k not in PROVENANCE_KEYS}
    config = CrossEncoderConfig(
        hf_config=hf_config, cls_id=special["cls"], sep_id=special["sep"], pad_id=special["pad"]
    )
    return Verifier(tokenizer, CrossEncoder(config, weights_from=weights_from))
