"""Word-level tokenizer built from the training questions (HF `tokenizers`), saved as `tokenizer.json`.

Text is NFKC-normalised and lower-cased, split on white space, and every punctuation or symbol character
becomes a token of its own. So the tokenized form of a question ("class ?") and its raw form ("class?")
give the same ids, and the standard Quora partition (tokenized) reads like the release (raw).

That partition (the dev and test splits) is Penn-Treebank tokenized as well: brackets are escaped
("-LRB- math -RRB-"), quotes are `` and '', and contractions are split ("ca n't"). `ptb_detokenizer`
undoes those escapes before anything else, so "ca n't" and "can't" give the same ids; every tokenizer
siamdup builds starts with it, and it is saved in tokenizer.json with the rest.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from tokenizers import Regex, normalizers, pre_tokenizers
from tokenizers import Tokenizer as HFTokenizer
from tokenizers.models import WordLevel
from tokenizers.trainers import WordLevelTrainer

PAD, UNK = "[PAD]", "[UNK]"

# Penn-Treebank escapes and their raw text. Ordered: `` before the lone `.
PTB_ESCAPES: tuple[tuple[str, str], ...] = (
    ("-LRB-", "("),
    ("-RRB-", ")"),
    ("-LSB-", "["),
    ("-RSB-", "]"),
    ("-LCB-", "{"),
    ("-RCB-", "}"),
    ("``", '"'),
    ("''", '"'),
    ("`", "'"),
    (" n't", "n't"),  # "ca n't" -> "can't", "do n't" -> "don't"
    (" N'T", "N'T"),
)


def ptb_detokenizer() -> normalizers.Normalizer:
    """A normalizer that turns Penn-Treebank escapes back into the raw characters (see PTB_ESCAPES)."""
    return normalizers.Sequence([normalizers.Replace(escaped, raw) for escaped, raw in PTB_ESCAPES])


def with_ptb_detokenizer(hf: HFTokenizer) -> HFTokenizer:
    """`hf`, its text first passed through `ptb_detokenizer` and then through its own normalizer; a
    tokenizer that already undoes the escapes is returned as it is."""
    own = hf.normalizer
    if own is not None and own.normalize_str("-LRB-") == "(":
        return hf
    hf.normalizer = ptb_detokenizer() if own is None else normalizers.Sequence([ptb_detokenizer(), own])
    return hf


class Tokenizer:
    """Maps questions to padded id tensors. A vocabulary trained here has padding at id 0 and the unknown
    word at id 1; a pretrained one (see `siamdup.pretrained`) keeps its own ids for them."""

    def __init__(self, hf: HFTokenizer, max_length: int = 64) -> None:
        hf.no_truncation()  # truncation is ours (max_length), and padding happens per batch in pad()
        hf.no_padding()
        self.hf = hf
        self.max_length = max_length
        pad_id, unk_id = hf.token_to_id(PAD), hf.token_to_id(UNK)
        if pad_id is None or unk_id is None:
            raise ValueError(f"tokenizer must have the tokens {PAD} and {UNK}")
        self.pad_id: int = pad_id
        self.unk_id: int = unk_id

    @staticmethod
    def _empty() -> HFTokenizer:
        hf = HFTokenizer(WordLevel(unk_token=UNK))
        hf.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
        with_ptb_detokenizer(hf)
        hf.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(r"[^\w\s]"), behavior="isolated")]
        )
        return hf

    @classmethod
    def train(
        cls, texts: Iterable[str], *, vocab_size: int = 30_000, min_frequency: int = 2, max_length: int = 64
    ) -> Tokenizer:
        """Build the vocabulary: the `vocab_size` most frequent words seen at least `min_frequency` times."""
        hf = cls._empty()
        trainer = WordLevelTrainer(
            vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=[PAD, UNK], show_progress=False
        )
        hf.train_from_iterator(texts, trainer=trainer)
        return cls(hf, max_length=max_length)

    @property
    def vocab_size(self) -> int:
        return self.hf.get_vocab_size()

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text, truncated to `max_length`; an empty text becomes a single [UNK]."""
        encodings = self.hf.encode_batch(list(texts), add_special_tokens=False)
        return [enc.ids[: self.max_length] or [self.unk_id] for enc in encodings]

    def pad(self, ids: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pad id lists into a (batch, longest) tensor; also return the lengths."""
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        batch = np.full((len(ids), int(lengths.max())), self.pad_id, dtype=np.int64)
        # One vectorised write instead of a loop over rows: the real positions, row by row, in order.
        batch[np.arange(batch.shape[1]) < lengths[:, None]] = np.fromiter(
            itertools.chain.from_iterable(ids), dtype=np.int64, count=int(lengths.sum())
        )
        return torch.from_numpy(batch), torch.from_numpy(lengths)

    def __call__(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.pad(self.tokenize(texts))

    def save(self, path: str | Path) -> None:
        self.hf.save(str(path))

    @classmethod
    def load(cls, path: str | Path, max_length: int = 64) -> Tokenizer:
        return cls.from_json(Path(path).read_bytes(), max_length=max_length)

    @classmethod
    def from_json(cls, data: str | bytes, max_length: int = 64) -> Tokenizer:
        """A tokenizer from the text of a tokenizer.json; `ValueError` when it is not a valid one."""
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        try:
            hf = HFTokenizer.from_str(text)
        except Exception as e:  # the tokenizers library raises plain Exception for a malformed file
            raise ValueError(f"not a valid tokenizer file: {e}") from None
        return cls(hf, max_length=max_length)
