"""`"verify": true` on /similarity and /duplicates: the verifier re-scores the pairs and decides.

The verifier runs on the request's own thread, after the batched search has answered and released the
index: it never holds the lock that adds and searches share, and a slow verification delays neither the
plain queries batched meanwhile nor the writers. Each request's pairs go to the verifier in one call
(sorted by length and batched there), at most `max_verified_pairs` of them; a request asking more is
refused with a 422 before any work, as any other over-limit input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError

from siamdup.index import Match
from siamdup.serve.batching import limit_threads
from siamdup.serve.schemas import MatchOut, PairScore

if TYPE_CHECKING:
    from siamdup.verify.scoring import PairScorer

NO_VERIFIER = 'no verifier loaded: start the service with --verifier DIR to use "verify": true'


class ServedVerifier:
    """The service's verifier with its per-request cap and thread count; see the module docstring."""

    def __init__(self, scorer: PairScorer, max_pairs: int, threads: int) -> None:
        self.scorer = scorer
        self.max_pairs = max_pairs
        self.threads = threads

    @property
    def threshold(self) -> float:
        return self.scorer.threshold

    def describe(self) -> dict:
        """What /health reports: the threshold, the runtime and the per-request cap."""
        from siamdup.verify.onnx import OnnxVerifier

        runtime = "onnx" if isinstance(self.scorer, OnnxVerifier) else "torch"
        return {"threshold": self.threshold, "runtime": runtime, "max_pairs": self.max_pairs}

    def check(self, pairs: int, field: str) -> None:
        """Refuse, as invalid input naming `field`, a request that would have more than the cap verified."""
        if pairs > self.max_pairs:
            error = {
                "loc": ("body", field),
                "msg": f"with verify, at most {self.max_pairs} pairs are verified per request "
                f"(--max-verified-pairs); this one asks {pairs}",
                "type": "verify_limit",
            }
            raise RequestValidationError([error])

    def score(self, q1s: Sequence[str], q2s: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities and decisions of the pairs, in one verifier call on the calling thread."""
        limit_threads(self.threads)
        return self.scorer.predict(q1s, q2s)

    def pair_scores(
        self, q1s: Sequence[str], q2s: Sequence[str], similarities: np.ndarray, cosine: np.ndarray
    ) -> list[PairScore]:
        """Both scores and both decisions of each pair; `duplicate` is the verifier's."""
        probabilities, decisions = self.score(q1s, q2s)
        return [
            PairScore(similarity=float(s), duplicate=bool(d), cosine_duplicate=bool(c), verification=float(p))
            for s, c, p, d in zip(similarities, cosine, probabilities, decisions, strict=True)
        ]

    def matches(self, question: str, found: list[Match]) -> list[MatchOut]:
        """The index's matches re-scored, highest verification first, with both scores and decisions."""
        probabilities, decisions = self.score([question] * len(found), [m.text for m in found])
        rescored = [
            MatchOut(
                id=m.id,
                text=m.text,
                similarity=m.similarity,
                duplicate=bool(d),
                cosine_duplicate=m.duplicate,
                verification=float(p),
            )
            for m, p, d in zip(found, probabilities, decisions, strict=True)
        ]
        rescored.sort(key=lambda m: -(m.verification or 0.0))
        return rescored


def verifier_for(
    verify: bool, verifier: ServedVerifier | None, pairs: int, field: str
) -> ServedVerifier | None:
    """The verifier a request asked for (None when it did not ask), once its `pairs` are within the cap:
    400 from a service without a verifier, 422 naming `field` over the cap."""
    if not verify:
        return None
    if verifier is None:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, NO_VERIFIER)
    verifier.check(pairs, field)
    return verifier
