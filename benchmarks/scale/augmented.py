"""A corpus of 2,000,000 questions: the 500,000 real texts of corpus.py and three rewordings of each.

Each real text gets variants a user might type for the same question, made by plain rules with a fixed
seed: lower-cased without the final punctuation, one word dropped, two neighbouring words swapped, or a
stock opening added ("Can anyone tell me ..."). Variants are kept only when new, and the rules go round
until four texts per real one exist, so the corpus has many near-duplicates, as a forum's does. Cached
as CSV (``id,source,text``) beside the real corpus.

    python -m benchmarks.scale.augmented --data ../shared/data/qqp --size 2000000
"""

from __future__ import annotations

import csv
import random
import zlib
from collections.abc import Callable
from pathlib import Path

from benchmarks.scale.corpus import DEFAULT_CACHE, build_corpus, corpus_parser, read_corpus

VARIANTS_PER_TEXT = 3
OPENINGS = ("Can anyone tell me", "I wonder:", "Quick question:", "Does anybody know", "Please help:")


def _plain(text: str, rng: random.Random) -> str:
    return text.lower().rstrip(" ?.!")


def _drop_word(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < 4:
        return text + " ?"
    del words[rng.randrange(1, len(words))]
    return " ".join(words)


def _swap_words(text: str, rng: random.Random) -> str:
    words = text.split()
    if len(words) < 3:
        return "so, " + text
    i = rng.randrange(len(words) - 1)
    words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def _opening(text: str, rng: random.Random) -> str:
    return f"{rng.choice(OPENINGS)} {text[0].lower()}{text[1:]}"


RULES: tuple[Callable[[str, random.Random], str], ...] = (_plain, _drop_word, _swap_words, _opening)


def build_augmented(data: Path, size: int, cache: Path = DEFAULT_CACHE, seed: int = 0) -> Path:
    """Write (or reuse) ``cache/augmented-SIZE.csv``: size/4 real texts, then their variants."""
    out = cache / f"augmented-{size}.csv"
    if out.is_file():
        return out
    real = size // (VARIANTS_PER_TEXT + 1)
    _, texts, _ = read_corpus(build_corpus(data, real, cache))
    rng = random.Random(seed)
    seen = set(texts)
    rows = [("real", t) for t in texts]
    for rule_round in range(10):
        for text in texts:
            if len(rows) == size:
                break
            variant = RULES[(zlib.crc32(text.encode()) + rule_round) % len(RULES)](text, rng).strip()
            if variant and variant not in seen:
                seen.add(variant)
                rows.append(("variant", variant))
    if len(rows) < size:
        raise SystemExit(f"only {len(rows):,} distinct texts could be made, {size:,} asked")
    partial = out.with_suffix(".partial")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "source", "text"])
        writer.writerows((i, source, text) for i, (source, text) in enumerate(rows))
    partial.replace(out)
    return out


def main() -> None:
    parser = corpus_parser(__doc__)
    parser.set_defaults(size=2_000_000)
    args = parser.parse_args()
    path = build_augmented(args.data, args.size, args.cache)
    print(f"{path}: {args.size:,} texts")


if __name__ == "__main__":
    main()
