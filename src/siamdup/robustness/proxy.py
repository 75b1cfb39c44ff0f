"""An out-of-domain proxy: sentences that are not Quora questions, each against a lightly edited copy of
itself (labelled duplicate) and against another sentence (labelled not duplicate).

There are no labelled paraphrase pairs on the machine, so this measures less than a real paraphrase set
would: whether, on text of another kind, a model still places a sentence closer to a near copy of itself
than to a different sentence, and whether its τ still separates the two. It does not measure whether a
model recognises a paraphrase in other words.

For each anchor sentence, drawn with the seed from the sentences of 6-30 words (the pool):

| kind | the other sentence | label |
|---|---|---|
| `edited` | the anchor with one or two light edits (`EDITS`: an article dropped, `A and B` → `B and A`, a word for its synonym), its final period dropped | 1 |
| `word-swapped` | the anchor with one content word (4+ letters) replaced by a word of another sentence of the pool (not one of its `COMMON_WORDS` most frequent) | 0 |
| `neighbour` | the sentence of the pool with the highest TF-IDF cosine below `MAX_OVERLAP`: shares words, says something else | 0 |
| `random` | another sentence of the pool | 0 |

An anchor none of whose edits applies is not used. Every draw comes from the seed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from sklearn.feature_extraction.text import TfidfVectorizer

from siamdup.robustness.rules import core, ends_phrase, swap_tokens

MAX_OVERLAP = 0.8  # above this a sentence is too often a near copy of the anchor to be called different
MIN_WORDS, MAX_WORDS = 6, 30
KINDS = ("edited", "word-swapped", "neighbour", "random")
COMMON_WORDS = 200  # the pool's most frequent content words (at most a tenth), never put in by the word swap
ARTICLES = frozenset(("the", "a", "an"))
# Words of technical prose with a synonym of the same sense in it.
SYNONYMS = {
    "show": "display",
    "display": "show",
    "remove": "delete",
    "delete": "remove",
    "create": "make",
    "start": "begin",
    "begin": "start",
    "allows": "lets",
    "lets": "allows",
    "large": "big",
    "small": "little",
    "quickly": "fast",
    "needed": "required",
    "required": "needed",
    "uses": "utilizes",
    "shows": "displays",
    "displays": "shows",
}


@dataclass(frozen=True)
class ProxyPair:
    """An anchor sentence, the other sentence, its kind and label (1: duplicate)."""

    kind: str
    anchor: str
    other: str
    label: int


def drop_article(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    places = [i for i in range(1, len(tokens)) if tokens[i] in ARTICLES]
    if not places:
        return None
    i = rng.choice(places)
    return [*tokens[:i], *tokens[i + 1 :]]


def swap_conjuncts(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    """`files and directories` → `directories and files` (two one-word conjuncts, the first word of the
    sentence not among them)."""
    places = [
        i
        for i in range(2, len(tokens) - 1)
        if tokens[i] == "and"
        and tokens[i - 1].isalpha()
        and core(tokens[i + 1]).isalpha()
        and ends_phrase(tokens, i + 1)
    ]
    return swap_tokens(tokens, *(lambda i: (i - 1, i + 1))(rng.choice(places))) if places else None


def use_synonym(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    places = [i for i, t in enumerate(tokens) if t in SYNONYMS]
    if not places:
        return None
    i = rng.choice(places)
    return [*tokens[:i], SYNONYMS[tokens[i]], *tokens[i + 1 :]]


EDITS: tuple[Callable[[Sequence[str], random.Random], list[str] | None], ...] = (
    drop_article,
    swap_conjuncts,
    use_synonym,
)


def light_edit(sentence: str, rng: random.Random) -> str | None:
    """The sentence with up to two of `EDITS` applied and no final period, or None if no edit applies."""
    tokens = sentence.split()
    applied = 0
    for edit in rng.sample(EDITS, len(EDITS)):
        changed = edit(tokens, rng)
        if changed is not None and applied < 2:
            tokens, applied = changed, applied + 1
    if not applied:
        return None
    text = " ".join(tokens)
    return text[:-1] if text.endswith(".") else text


def _content_words(sentence: str) -> list[str]:
    return [t for t in sentence.split() if len(t) >= 4 and t.isalpha() and t.islower()]


def swap_content_word(
    sentence: str, donor: str, rng: random.Random, common: Collection[str] = ()
) -> str | None:
    """One content word of `sentence` (4+ lower-case letters) replaced by a different one of `donor`,
    never by one of the `common` words (the pool's frequent words: library, package, tool, module ... are
    too often near synonyms of each other)."""
    tokens = sentence.split()
    places = [i for i, t in enumerate(tokens) if len(t) >= 4 and t.isalpha() and t.islower()]
    words = [w for w in _content_words(donor) if w not in tokens and w not in common]
    if not places or not words:
        return None
    i = rng.choice(places)
    return " ".join([*tokens[:i], rng.choice(words), *tokens[i + 1 :]])


def _neighbours(pool: Sequence[str], rows: Sequence[int]) -> list[int | None]:
    """For each row, the pool sentence of highest TF-IDF cosine below `MAX_OVERLAP` (None if it shares no word)."""
    tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform(pool)
    out: list[int | None] = []
    for start in range(0, len(rows), 256):
        chunk = list(rows[start : start + 256])
        cosine = (tfidf[chunk] @ tfidf.T).toarray()
        cosine[cosine >= MAX_OVERLAP] = -1.0  # the anchor itself, and near copies of it
        best = cosine.argmax(axis=1)
        out += [int(b) if cosine[k, b] > 0 else None for k, b in enumerate(best)]
    return out


def build_proxy_pairs(sentences: Sequence[str], anchors: int = 1000, seed: int = 0) -> list[ProxyPair]:
    """Up to `anchors` anchors, each with its four pairs (see the module docstring)."""
    pool = sorted({s.strip() for s in sentences if MIN_WORDS <= len(s.split()) <= MAX_WORDS})
    if len(pool) < 3:
        raise ValueError(
            f"the proxy needs at least 3 sentences of {MIN_WORDS}-{MAX_WORDS} words, got {len(pool)}"
        )
    rng = random.Random(seed)
    candidates = rng.sample(range(len(pool)), min(len(pool), 4 * anchors))
    edited = {i: light_edit(pool[i], random.Random(f"{seed}:{pool[i]}")) for i in candidates}
    rows = [i for i in candidates if edited[i] not in (None, pool[i])][:anchors]
    counts = Counter(w for s in pool for w in set(_content_words(s)))
    common = {w for w, _ in counts.most_common(min(COMMON_WORDS, len(counts) // 10))}
    pairs: list[ProxyPair] = []
    for i, neighbour in zip(rows, _neighbours(pool, rows), strict=True):
        draw = random.Random(f"{seed}:others:{pool[i]}")
        j = draw.randrange(len(pool) - 1)
        other = pool[j + 1 if j >= i else j]  # any sentence but the anchor
        swapped = swap_content_word(pool[i], other, draw, common)
        pairs.append(ProxyPair("edited", pool[i], str(edited[i]), 1))
        if swapped is not None:
            pairs.append(ProxyPair("word-swapped", pool[i], swapped, 0))
        if neighbour is not None:
            pairs.append(ProxyPair("neighbour", pool[i], pool[neighbour], 0))
        pairs.append(ProxyPair("random", pool[i], other, 0))
    return pairs
