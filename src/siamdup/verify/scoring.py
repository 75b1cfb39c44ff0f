"""What every verifier runtime shares: questions to batches of pairs, batches to calibrated probabilities,
probabilities to decisions.

Pairs are scored in order of length, so a batch pads little, in batches of at most `batch_size`, and a call
holds at most `max_pairs` pairs: a request can make the verifier busy for a bounded time only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from siamdup.tokenizer import Tokenizer
from siamdup.verify.cross_encoder import CrossEncoderConfig, PairInputs, pair_inputs

DEFAULT_BATCH_SIZE = 64
MAX_BATCH_SIZE = 1024
MAX_PAIRS_PER_CALL = 100_000


class VerifyLimitError(ValueError):
    """More pairs in one call than the verifier's cap."""


def check_pairs(q1s: Sequence[str], q2s: Sequence[str], max_pairs: int) -> None:
    if isinstance(q1s, str) or isinstance(q2s, str):
        raise TypeError("score() takes two lists of questions; wrap a single question in a list")
    if len(q1s) != len(q2s):
        raise ValueError(f"score() needs two lists of equal length, got {len(q1s)} and {len(q2s)}")
    if len(q1s) > max_pairs:
        raise VerifyLimitError(f"{len(q1s):,} pairs in one call; the verifier takes at most {max_pairs:,}")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


class PairScorer:
    """`score`, `predict`, `logits` over a runtime's `_batch_logits`; see the module docstring."""

    def __init__(
        self,
        tokenizer: Tokenizer,
        encoder_config: CrossEncoderConfig,
        threshold: float = 0.5,
        temperature: float = 1.0,
    ) -> None:
        self.tokenizer = tokenizer
        self.encoder_config = encoder_config
        self.threshold = float(threshold)
        self.temperature = float(temperature)
        self.max_pairs = MAX_PAIRS_PER_CALL

    def _batch_logits(self, inputs: PairInputs) -> np.ndarray:
        raise NotImplementedError

    def logits(
        self, q1s: Sequence[str], q2s: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> np.ndarray:
        """Raw logits (before the temperature) of each pair (q1s[i], q2s[i]), float32, in the order given."""
        check_pairs(q1s, q2s, self.max_pairs)
        batch_size = max(1, min(batch_size, MAX_BATCH_SIZE))
        first, second = self.tokenizer.tokenize(list(q1s)), self.tokenizer.tokenize(list(q2s))
        order = np.argsort([len(a) + len(b) for a, b in zip(first, second, strict=True)], kind="stable")
        out = np.empty(len(first), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            inputs = pair_inputs([first[i] for i in rows], [second[i] for i in rows], self.encoder_config)
            out[rows] = self._batch_logits(inputs)
        return out

    def score(
        self, q1s: Sequence[str], q2s: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> np.ndarray:
        """Calibrated P(duplicate) of each pair (q1s[i], q2s[i]), float64 in [0, 1], in the order given."""
        return sigmoid(self.logits(q1s, q2s, batch_size).astype(np.float64) / self.temperature)

    def similarity(self, q1s: Sequence[str], q2s: Sequence[str]) -> np.ndarray:
        """The score under the name the evaluators call (`siamdup.evaluate.PairEvaluator`)."""
        return self.score(q1s, q2s)

    def predict(self, q1s: Sequence[str], q2s: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and duplicate decisions (probability > threshold)."""
        scores = self.score(q1s, q2s)
        return scores, scores > self.threshold
