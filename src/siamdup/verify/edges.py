"""The verifier confirming the links a Siamese index found (`siamdup dedupe --verify`): each distinct pair is
scored once, in calls of at most the verifier's cap, and only the links it calls duplicates are kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from siamdup.verify.scoring import PairScorer


def confirmed_links(
    verifier: PairScorer,
    texts: Sequence[str],
    source: np.ndarray,
    target: np.ndarray,
    phases: Callable[[str, int], Callable[[int], None]] | None = None,
) -> np.ndarray:
    """A mask over the links (source[i], target[i]): True where the verifier calls the two texts duplicates.
    A link found from both ends is scored once."""
    n = len(texts)
    keys = np.minimum(source, target).astype(np.int64) * n + np.maximum(source, target)
    unique, position = np.unique(keys, return_inverse=True)
    first, second = unique // n, unique % n
    progress = phases("verifying", len(unique)) if phases else None
    probabilities = np.empty(len(unique), dtype=np.float64)
    for start in range(0, len(unique), verifier.max_pairs):
        rows = slice(start, start + verifier.max_pairs)
        probabilities[rows] = verifier.score(
            [texts[i] for i in first[rows]], [texts[j] for j in second[rows]]
        )
        if progress:
            progress(len(probabilities[rows]))
    return (probabilities > verifier.threshold)[position]
