"""The one-word edits the contrast set is made of, each a function `(tokens, rng, ...) -> tokens | None`.

Questions are handled as whitespace tokens, so QQP's tokenized text (``How do I learn Python ?``) and
plain text (``How do I learn Python?``) both work; punctuation stuck to a word is kept in place. An edit
returns None when its pattern is not in the question. Every edit changes what is asked (the pair is not a
duplicate), except `swap_symmetric`, a control whose pair keeps its meaning.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence

# Only swaps that ask another question: "what" and "who" are never swapped (the result is rarely a
# question), nor how↔where ("How can I buy X?" and "Where can I buy X?" often ask the same).
WH_SWAPS: dict[str, tuple[str, ...]] = {
    "how": ("why", "when"),
    "why": ("how", "when", "where"),
    "where": ("when", "why"),
    "when": ("where", "why"),
}
WH_WORDS = frozenset(("what", "which", "who", "how", "why", "where", "when"))
# After these a wh-word swap keeps a grammatical question ("Why do I ...", "When can I ...").
DO_AND_MODALS = frozenset(["do", "does", "did", "can", "could", "should", "would", "will"])
AUXILIARIES = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "do",
        "does",
        "did",
        "can",
        "could",
        "should",
        "would",
        "will",
        "shall",
        "might",
        "must",
        "may",
        "has",
        "have",
        "had",
    ]
)
BE = frozenset(("is", "are", "was", "were"))
# Names are swapped only after these words, where a name is a place, a company, a person or a language.
NAME_CONTEXTS = frozenset(
    [
        "in",
        "at",
        "from",
        "to",
        "for",
        "against",
        "about",
        "on",
        "with",
        "of",
        "into",
        "near",
        "visit",
        "learn",
        "than",
        "like",
    ]
)
MIN_NAME_COUNT = 3  # a name seen this often after a context word: a real name, not a capitalised word
SUBJECT_PRONOUNS = frozenset(["i", "you", "we", "they", "he", "she", "it", "people"])
NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
# The stems PTB tokenization leaves before "n't" that are not the plain auxiliary.
_NT_STEMS = {"ca": "can", "wo": "will", "sha": "shall"}
_SPLIT = re.compile(r"^(.*?)([?.!,;:]*)$")
_SYMMETRIC = frozenset(("vs", "vs.", "versus"))
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "my",
        "your",
        "our",
        "their",
        "his",
        "her",
        "its",
        "this",
        "that",
        "these",
        "those",
        "to",
        "of",
        "from",
        "in",
        "on",
        "at",
        "for",
        "with",
        "by",
        "and",
        "or",
        "not",
    ]
)


def core(token: str) -> str:
    """The token without the punctuation stuck to its end, lower-cased."""
    return _SPLIT.match(token).group(1).lower()  # type: ignore[union-attr]


def _replace(token: str, word: str) -> str:
    """`word` in place of the token's word, with its case of first letter and its trailing punctuation."""
    body, tail = _SPLIT.match(token).groups()  # type: ignore[union-attr]
    if body[:1].isupper():
        word = word[:1].upper() + word[1:]
    return word + tail


def _is_word(token: str) -> bool:
    return core(token).replace("-", "").isalnum() and core(token) not in _FUNCTION_WORDS


def ends_phrase(tokens: Sequence[str], i: int) -> bool:
    """True when a one-word phrase ending at token i stops there (end, punctuation or a function word)."""
    if not _SPLIT.match(tokens[i]).group(2) and i + 1 < len(tokens):  # type: ignore[union-attr]
        following = core(tokens[i + 1])
        return following == "" or following in _FUNCTION_WORDS
    return True


def swap_wh_word(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    """`How do I ...` → `Why do I ...`: the leading wh-word swapped (`WH_SWAPS`) when `do` or a modal follows."""
    if len(tokens) < 3 or core(tokens[0]) not in WH_SWAPS or core(tokens[1]) not in DO_AND_MODALS:
        return None
    return [_replace(tokens[0], rng.choice(WH_SWAPS[core(tokens[0])])), *tokens[1:]]


def change_number(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    """The first number changed: a year by 1-5 either way, another integer up by 1-9, a number word
    (two..twelve) to another."""
    for i, token in enumerate(tokens):
        word = core(token)
        if word.isdigit() and len(word) <= 4:
            value = int(word)
            if 1900 <= value <= 2099:
                value += rng.choice((-1, 1)) * rng.randint(1, 5)
            else:
                value += rng.randint(1, 9)
            return [*tokens[:i], _replace(token, str(value)), *tokens[i + 1 :]]
        if word in NUMBER_WORDS:
            other = rng.choice([w for w in NUMBER_WORDS if w != word])
            return [*tokens[:i], _replace(token, other), *tokens[i + 1 :]]
    return None


def flip_negation(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    """In a wh-question, the first negation removed (`not`, `n't`, `don't`), or else one inserted after
    `WH AUX PRONOUN` (`How can I lose weight` → `How can I not lose weight`). Yes/no questions are left
    alone: "Is it ...?" and "Isn't it ...?" usually ask the same thing."""
    if not tokens or core(tokens[0]) not in WH_WORDS:
        return None
    for i, token in enumerate(tokens):
        word = core(token)
        if word == "not":
            return [*tokens[:i], *tokens[i + 1 :]]
        if word == "n't" and i > 0:
            stem = core(tokens[i - 1])
            return [*tokens[: i - 1], _replace(tokens[i - 1], _NT_STEMS.get(stem, stem)), *tokens[i + 1 :]]
        if word.endswith("n't") and len(word) > 3:
            stem = word[:-3]
            return [*tokens[:i], _replace(token, _NT_STEMS.get(stem, stem)), *tokens[i + 1 :]]
    if len(tokens) > 3 and core(tokens[1]) in AUXILIARIES and core(tokens[2]) in SUBJECT_PRONOUNS:
        return [*tokens[:3], "not", *tokens[3:]]
    return None


def entity_slots(questions: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """For each word of `NAME_CONTEXTS`, the one-word names (capitalised, not first in the question) seen
    after it at least `MIN_NAME_COUNT` times in `questions`, sorted; only words with two names or more."""
    counts: dict[str, Counter[str]] = {}
    for tokens in questions:
        for i in _entity_positions(tokens):
            context = core(tokens[i - 1])
            if context in NAME_CONTEXTS:
                counts.setdefault(context, Counter())[_SPLIT.match(tokens[i]).group(1)] += 1  # type: ignore[union-attr]
    slots = {c: sorted(n for n, k in names.items() if k >= MIN_NAME_COUNT) for c, names in counts.items()}
    return {context: names for context, names in slots.items() if len(names) > 1}


def _entity_positions(tokens: Sequence[str]) -> list[int]:
    def capitalised(j: int) -> bool:
        body = _SPLIT.match(tokens[j]).group(1)  # type: ignore[union-attr]
        return body[:1].isupper() and body[1:].islower() and body.isalpha()

    return [
        i
        for i in range(1, len(tokens))
        if capitalised(i)
        and not capitalised(i - 1)
        and not (i >= 2 and capitalised(i - 2))  # "Game of Thrones": part of a longer title
        and not _SPLIT.match(tokens[i - 1]).group(2)  # type: ignore[union-attr]
        and core(tokens[i - 1]).isalpha()
        and not (i + 1 < len(tokens) and (tokens[i + 1][:1].isupper() or tokens[i + 1][:1].isdigit()))
    ]


def swap_entity(
    tokens: Sequence[str], rng: random.Random, slots: Mapping[str, Sequence[str]]
) -> list[str] | None:
    """A one-word name of `slots` swapped for another seen after the same word: `a job at Google` →
    `a job at Amazon`. All-capital acronyms (US, USA, UK) are never names here, so a country is not swapped
    for its own abbreviation."""
    choices = [
        i
        for i in _entity_positions(tokens)
        if _SPLIT.match(tokens[i]).group(1) in slots.get(core(tokens[i - 1]), ())  # type: ignore[union-attr]
    ]
    if not choices:
        return None
    i = rng.choice(choices)
    present = {core(t) for t in tokens}
    others = [n for n in slots[core(tokens[i - 1])] if n.lower() not in present]
    if not others:
        return None
    return [*tokens[:i], _replace(tokens[i], rng.choice(others)), *tokens[i + 1 :]]


def reorder_words(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    """Two one-word terms swapped where their order is the question: `from A to B` → `from B to A` for two
    names (capitalised: places, apps, languages; "from head to toe" is left alone), and `Is A better than B`
    → `Is B better than A` (a comparative ending in -er, better/worse, or more/less X, after is/are/was/were)."""
    for i in range(len(tokens) - 3):
        if core(tokens[i]) == "from" and core(tokens[i + 2]) == "to":
            names = tokens[i + 1][:1].isupper() and tokens[i + 3][:1].isupper()
            if names and _is_word(tokens[i + 1]) and _is_word(tokens[i + 3]) and ends_phrase(tokens, i + 3):
                return swap_tokens(tokens, i + 1, i + 3)
    for i in range(3, len(tokens) - 1):
        if core(tokens[i]) != "than" or not _is_word(tokens[i + 1]) or not ends_phrase(tokens, i + 1):
            continue
        comparative = core(tokens[i - 1])
        a = i - 3 if core(tokens[i - 2]) in ("more", "less") else i - 2
        if not (comparative.endswith("er") or comparative in ("better", "worse") or a == i - 3):
            continue
        if a >= 1 and core(tokens[a - 1]) in BE and _is_word(tokens[a]):
            return swap_tokens(tokens, a, i + 1)
    return None


def swap_symmetric(tokens: Sequence[str], rng: random.Random) -> list[str] | None:
    """The control, meaning kept: `A vs B` → `B vs A`, `between A and B` → `between B and A`."""
    for i in range(1, len(tokens) - 1):
        versus = (
            core(tokens[i]) in _SYMMETRIC
            and _is_word(tokens[i - 1])
            and _is_word(tokens[i + 1])
            and ends_phrase(tokens, i + 1)
            and (i < 2 or not _is_word(tokens[i - 2]))
        )
        if versus:
            return swap_tokens(tokens, i - 1, i + 1)
        between = (
            core(tokens[i]) == "between"
            and i + 3 < len(tokens)
            and core(tokens[i + 2]) == "and"
            and _is_word(tokens[i + 1])
            and _is_word(tokens[i + 3])
            and ends_phrase(tokens, i + 3)
        )
        if between:
            return swap_tokens(tokens, i + 1, i + 3)
    return None


def swap_tokens(tokens: Sequence[str], a: int, b: int) -> list[str]:
    """Tokens a and b exchange words; each place keeps its own trailing punctuation."""
    out = list(tokens)
    word_a = _SPLIT.match(tokens[a]).group(1)  # type: ignore[union-attr]
    word_b = _SPLIT.match(tokens[b]).group(1)  # type: ignore[union-attr]
    out[a] = word_b + _SPLIT.match(tokens[a]).group(2)  # type: ignore[union-attr]
    out[b] = word_a + _SPLIT.match(tokens[b]).group(2)  # type: ignore[union-attr]
    return out
