"""A corpus of real text for the scale benchmarks: QQP's questions, padded out with other real sentences.

The shared QQP files hold about 195,000 distinct questions. To reach 500,000 stored questions the
corpus goes on with real English sentences found on the machine, never random vectors:

1. every distinct question of ``train.tsv.gz`` and ``dev.tsv``;
2. Debian's package descriptions (the apt package list, read with ``lz4cat``), one sentence each;
3. sentences of the manual pages installed on the machine (groff markup stripped);
4. sentences of the docstrings of the Python standard library and the installed packages.

The result is cached as CSV (``id,source,text``) in the cache folder, outside the repository.

    python -m benchmarks.scale.corpus --data ../shared/data/qqp --size 500000
"""

from __future__ import annotations

import argparse
import ast
import csv
import glob
import gzip
import pathlib
import re
import subprocess
import sys
import sysconfig
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from benchmarks.machine import benchmark_parser
from siamdup.data.readers import read_pairs

DEFAULT_CACHE = Path.home() / ".cache" / "siamdup-benchmarks"
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_CODE_LIKE = re.compile(r"[>{}=\[\]_`|\\]|::|\(\)|\s{2,}|---")


def qqp_questions(data: Path) -> Iterator[str]:
    for name in ("train.tsv.gz", "dev.tsv"):
        pairs, _ = read_pairs(data / name)
        for p in pairs:
            yield p.question1
            yield p.question2


def _sentences(paragraph: str) -> Iterator[str]:
    for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
        if 20 <= len(sentence) <= 200 and sentence[0].isupper() and not _CODE_LIKE.search(sentence):
            yield sentence


def debian_descriptions() -> Iterator[str]:
    lists = sorted(glob.glob("/var/lib/apt/lists/*_Packages.lz4"))
    for path in lists:
        try:
            text = subprocess.run(["lz4cat", path], capture_output=True, check=True, text=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        for line in text.splitlines():
            if line.startswith("Description:"):
                yield from _sentences(line.split(":", 1)[1])
            elif line.startswith(" ") and line.strip() != ".":
                yield from _sentences(line)


_GROFF_ESCAPE = re.compile(
    r"\\f[BIRPC]|\\f\(..|\\f\[[^\]]*\]|\\s[-+]?\d|\\\*\(..|\\\*.|\\\(..|\\\[[^\]]*\]|\\[&|^%e]"
)


def man_page_sentences() -> Iterator[str]:
    for path in sorted(glob.glob("/usr/share/man/man*/*.gz")):
        try:
            with gzip.open(path, "rt", errors="replace") as f:
                lines = f.read().splitlines()
        except (OSError, EOFError):
            continue
        paragraph: list[str] = []
        for line in [*lines, "."]:
            if line.startswith((".", "'")):  # a groff request ends the running paragraph
                yield from _sentences(" ".join(paragraph))
                paragraph = []
            else:
                paragraph.append(_GROFF_ESCAPE.sub("", line).replace("\\-", "-"))


def docstring_sentences() -> Iterator[str]:
    paths = sysconfig.get_paths()
    for root in (paths["stdlib"], paths["purelib"]):
        for file in sorted(pathlib.Path(root).rglob("*.py")):
            try:
                tree = ast.parse(file.read_bytes())
            except (SyntaxError, ValueError, OSError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    for paragraph in re.split(r"\n\s*\n", doc or ""):
                        yield from _sentences(paragraph)


def build_corpus(data: Path, size: int, cache: Path = DEFAULT_CACHE) -> Path:
    """Write (or reuse) ``cache/corpus-SIZE.csv`` and return its path."""
    out = cache / f"corpus-{size}.csv"
    if out.is_file():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    rows: list[tuple[str, str]] = []
    for source, texts in (
        ("qqp", qqp_questions(data)),
        ("debian", debian_descriptions()),
        ("man", man_page_sentences()),
        ("docstrings", docstring_sentences()),
    ):
        for text in texts:
            text = text.strip()
            if text and text not in seen:
                seen.add(text)
                rows.append((source, text))
                if len(rows) == size:
                    break
        print(f"  after {source}: {len(rows):,} texts", file=sys.stderr)
        if len(rows) == size:
            break
    if len(rows) < size:
        raise SystemExit(f"only {len(rows):,} distinct real texts found on this machine, {size:,} asked")
    partial = out.with_suffix(".partial")
    with open(partial, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "source", "text"])
        writer.writerows((i, source, text) for i, (source, text) in enumerate(rows))
    partial.replace(out)
    return out


def read_corpus(path: Path) -> tuple[list[str], list[str], Counter[str]]:
    ids, texts, sources = [], [], Counter()
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ids.append(row["id"])
            texts.append(row["text"])
            sources[row["source"]] += 1
    return ids, texts, sources


def corpus_parser(description: str | None) -> argparse.ArgumentParser:
    """The options every scale benchmark takes: where the data is, how many texts, the cache folder."""
    parser = benchmark_parser(description)
    parser.add_argument("--size", type=int, default=500_000, help="how many texts")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where the corpus is kept")
    return parser


def main() -> None:
    args = corpus_parser(__doc__).parse_args()
    path = build_corpus(args.data, args.size, args.cache)
    _, _, sources = read_corpus(path)
    print(f"{path}: {sum(sources.values()):,} texts ({', '.join(f'{n:,} {s}' for s, n in sources.items())})")


if __name__ == "__main__":
    main()
