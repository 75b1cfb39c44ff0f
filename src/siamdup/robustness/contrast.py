"""A contrast set built from real questions: pairs that differ in one decisive word, so not duplicates.

For each question (in the order given, duplicates of a text dropped) each rule of `siamdup.robustness.rules`
is tried; where its pattern is found the question and its edited copy make one pair of that rule's kind:

| kind | edit | label |
|---|---|---|
| `wh-word` | the leading wh-word before an auxiliary swapped: `How do I ...` → `Why do I ...` | 0 |
| `number` | the first number changed (a year by 1-5, an integer up by 1-9, a number word to another) | 0 |
| `negation` | in a wh-question, a negation removed, or `not` inserted after `WH AUX PRONOUN` | 0 |
| `entity` | a one-word name swapped for another that follows the same word elsewhere in the questions | 0 |
| `word-order` | `from A to B` → `from B to A`, `Is A better than B` → `Is B better than A` | 0 |
| `order-control` | `A vs B` → `B vs A`, `between A and B` → `between B and A`: the meaning is kept | 1 |

Every random choice comes from a generator seeded with the seed and the question's text, so a question's
edit does not depend on the other questions, and at most `per_kind` pairs of a kind are kept, drawn with
the seed. Nothing is hand-written: the pairs come from the questions given alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from siamdup.robustness import rules

Edit = Callable[[Sequence[str], random.Random], "list[str] | None"]


@dataclass(frozen=True)
class ContrastPair:
    """A question, its one-word edit, the kind of edit, and the label the edit implies (1: duplicate)."""

    kind: str
    original: str
    changed: str
    label: int


def contrast_edits(questions: Sequence[Sequence[str]]) -> dict[str, tuple[Edit, int]]:
    """Kind → (edit, label). The entity swap draws its names from the tokenized `questions`."""
    return {
        "wh-word": (rules.swap_wh_word, 0),
        "number": (rules.change_number, 0),
        "negation": (rules.flip_negation, 0),
        "entity": (partial(rules.swap_entity, slots=rules.entity_slots(questions)), 0),
        "word-order": (rules.reorder_words, 0),
        "order-control": (rules.swap_symmetric, 1),
    }


def build_contrast_set(
    questions: Iterable[str], seed: int = 0, per_kind: int | None = 500
) -> list[ContrastPair]:
    """The contrast pairs of `questions`, kind by kind in the table's order (see the module docstring)."""
    texts = list(dict.fromkeys(q.strip() for q in questions if q.strip()))
    tokenized = [t.split() for t in texts]
    pairs: list[ContrastPair] = []
    for kind, (edit, label) in contrast_edits(tokenized).items():
        found = []
        for text, tokens in zip(texts, tokenized, strict=True):
            changed = edit(tokens, random.Random(f"{seed}:{kind}:{text}"))
            if changed is not None and " ".join(changed) != " ".join(tokens):
                found.append(ContrastPair(kind, text, " ".join(changed), label))
        if per_kind is not None and len(found) > per_kind:
            kept = sorted(random.Random(f"{seed}:{kind}").sample(range(len(found)), per_kind))
            found = [found[i] for i in kept]
        pairs.extend(found)
    return pairs
