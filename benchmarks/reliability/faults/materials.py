"""What the scenarios work on: questions, small labelled pair files, a starting index."""

from __future__ import annotations

import csv
import functools
import itertools
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from siamdup import Siamese

TOPICS = ["python", "guitar", "chess", "french", "calculus", "yoga", "photography", "cooking", "piano"]
FORMS = [
    ["how do i learn {}?", "what is the best way to learn {}?", "how can i get good at {}?"],
    ["is {} hard?", "how difficult is {}?", "is it hard to pick up {}?"],
]
SUBJECTS = ["python", "rice", "flights", "weight", "paris", "guitar", "sleep", "interviews", "taxes", "chess"]
ASKS = [
    "how do i start with {} ({})?",
    "what is the best book on {} for week {}?",
    "is {} worth it in year {}?",
]


def question(qid: str) -> str:
    """A distinct, readable question for an id (the same id always gives the same text)."""
    rng = random.Random(qid)
    return rng.choice(ASKS).format(rng.choice(SUBJECTS), qid)


def write_questions(path: Path, ids: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text"])
        writer.writerows((qid, question(qid)) for qid in ids)
    return path


def write_pairs(path: Path, seed: int, n_negatives: int = 40) -> Path:
    """A labelled partition TSV: duplicates share a topic and a template, non-duplicates differ in topic."""
    rng = random.Random(seed)
    pairs = [
        (1, a.format(t), b.format(t)) for t in TOPICS for f in FORMS for a, b in itertools.combinations(f, 2)
    ]
    for _ in range(n_negatives):
        forms = rng.choice(FORMS)
        t1, t2 = rng.sample(TOPICS, 2)
        pairs.append((0, rng.choice(forms).format(t1), rng.choice(forms).format(t2)))
    rng.shuffle(pairs)
    path.write_text("".join(f"{label}\t{a}\t{b}\t{i}\n" for i, (label, a, b) in enumerate(pairs)))
    return path


@functools.cache
def shipped_model() -> Siamese:
    from siamdup import Siamese

    return Siamese.load()


def small_model() -> Siamese:
    """A narrow random LSTM with the shipped tokenizer: a whole model that saves and loads quickly."""
    import torch

    from siamdup import Siamese
    from siamdup.model.encoder import EncoderConfig, LSTMEncoder

    tokenizer = shipped_model().tokenizer
    torch.manual_seed(0)
    config = EncoderConfig(vocab_size=tokenizer.vocab_size, d_model=16, pad_id=tokenizer.pad_id)
    return Siamese(tokenizer, LSTMEncoder(config).eval())


def make_index(
    directory: Path, ids: list[str], journalled: Sequence[str] = (), model: Siamese | None = None
) -> Path:
    """An index of `model` (default: the shipped one) saved with `ids`, then `journalled` added through
    its journal."""
    from siamdup.index import DuplicateIndex

    index = DuplicateIndex(model or shipped_model())
    index.add(ids, [question(q) for q in ids])
    index.save(directory)
    if journalled:
        index.add(list(journalled), [question(q) for q in journalled], journal=True)
    return directory


def missing_ids(directory: Path, ids: Iterable[str]) -> list[str]:
    """The ids a fresh load of the index lacks (the public API, as a restarted service would load it)."""
    from siamdup.index import DuplicateIndex

    index = DuplicateIndex.load(directory, shipped_model())
    return [qid for qid in ids if qid not in index]
