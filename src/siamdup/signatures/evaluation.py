"""The SVC2004 protocol: per writer, 10 random draws of 5 references from sessions 1-10; tested on the
genuine sessions 11-20, the skilled forgeries 21-40 and 20 random forgeries (genuine signatures of other
evaluated writers, spread over as many writers as there are). EER for skilled and for random forgeries.

Any verifier plugs in as a similarity matrix per writer: rows are the writer's sessions 1-10 (the
reference pool), columns the candidates (the pool, then the queries), so the model, DTW and their fusion
are scored by the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from siamdup.signatures.scoring import aggregate
from siamdup.trajectory.svc2004 import SignatureRecord

POOL_SESSIONS = range(1, 11)
GENUINE_TEST = range(11, 21)
SKILLED_TEST = range(21, 41)
REFERENCES = 5
DRAWS = 10
RANDOM_FORGERIES = 20


@dataclass
class WriterTrial:
    """One writer's protocol: indices into the record list, and the reference draws (rows of the pool)."""

    writer: int
    pool: list[int]
    genuine: list[int]
    skilled: list[int]
    random: list[int]
    draws: list[np.ndarray] = field(default_factory=list)

    @property
    def candidates(self) -> list[int]:
        return self.pool + self.genuine + self.skilled + self.random


@dataclass
class ProtocolScores:
    genuine: np.ndarray
    skilled: np.ndarray
    random: np.ndarray

    def figures(self) -> dict[str, float]:
        skilled_eer, skilled_t = equal_error_rate(self.genuine, self.skilled)
        random_eer, random_t = equal_error_rate(self.genuine, self.random)
        return {
            "skilled_eer": skilled_eer,
            "random_eer": random_eer,
            "skilled_threshold": skilled_t,
            "random_threshold": random_t,
        }


def protocol_trials(
    records: list[SignatureRecord], writers: list[int], seed: int = 0, draws: int = DRAWS
) -> list[WriterTrial]:
    """The protocol's trials for `writers`, drawn with `seed` (the same seed, the same trials)."""
    rng = np.random.default_rng(seed)
    by_writer: dict[int, dict[int, int]] = {}
    for i, r in enumerate(records):
        by_writer.setdefault(r.writer, {})[r.session] = i
    trials = []
    for writer in writers:
        sessions = by_writer.get(writer, {})
        missing = [s for s in range(1, 41) if s not in sessions]
        if missing:
            raise ValueError(f"writer {writer} lacks session(s) {missing[:5]} of the 40 the protocol uses")
        others = [w for w in writers if w != writer]
        if not others:
            raise ValueError("random forgeries need at least two evaluated writers")
        order = rng.permutation(others)
        chosen = [order[i % len(order)] for i in range(RANDOM_FORGERIES)]
        random = [
            by_writer[w][int(s)] for w, s in zip(chosen, rng.permutation(20)[: len(chosen)] + 1, strict=False)
        ]
        trial = WriterTrial(
            writer,
            [sessions[s] for s in POOL_SESSIONS],
            [sessions[s] for s in GENUINE_TEST],
            [sessions[s] for s in SKILLED_TEST],
            random,
        )
        trial.draws = [rng.choice(len(trial.pool), REFERENCES, replace=False) for _ in range(draws)]
        trials.append(trial)
    return trials


def protocol_scores(
    trials: list[WriterTrial],
    similarity: Callable[[WriterTrial], np.ndarray],
    aggregation: str = "max",
    normalisation: str = "none",
) -> ProtocolScores:
    """Every draw's scores. `similarity(trial)` gives the (pool, candidates) similarity matrix."""
    genuine, skilled, random = [], [], []
    for trial in trials:
        s = similarity(trial)
        n_pool, n_gen, n_sk = len(trial.pool), len(trial.genuine), len(trial.skilled)
        for refs in trial.draws:
            scores = aggregate(s[refs][:, n_pool:], s[np.ix_(refs, refs)], aggregation, normalisation)
            genuine.append(scores[:n_gen])
            skilled.append(scores[n_gen : n_gen + n_sk])
            random.append(scores[n_gen + n_sk :])
    return ProtocolScores(np.concatenate(genuine), np.concatenate(skilled), np.concatenate(random))


def embedding_similarity(embeddings: np.ndarray) -> Callable[[WriterTrial], np.ndarray]:
    """The cosine similarity matrix of a trial, from unit vectors of every record."""
    return lambda trial: embeddings[trial.pool] @ embeddings[trial.candidates].T


def equal_error_rate(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): accepting scores above the threshold, the one where the false-accept rate and
    the false-reject rate are closest (the first such from below); the EER is their mean there."""
    genuine = np.sort(np.asarray(genuine, dtype=np.float64))
    impostor = np.sort(np.asarray(impostor, dtype=np.float64))
    if len(genuine) == 0 or len(impostor) == 0:
        raise ValueError("the EER needs genuine and impostor scores")
    thresholds = np.concatenate([[-np.inf], np.unique(np.concatenate([genuine, impostor]))])
    false_reject = np.searchsorted(genuine, thresholds, side="right") / len(genuine)
    false_accept = 1 - np.searchsorted(impostor, thresholds, side="right") / len(impostor)
    best = int(np.argmin(np.abs(false_accept - false_reject)))
    return float((false_accept[best] + false_reject[best]) / 2), float(thresholds[best])
