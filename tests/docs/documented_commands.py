"""The command lines the README and the docs show, and how the tests treat each kind.

Every ```bash block of README.md and docs/**/*.md, and every `siamdup ...` example in the README's command
table, in the order a reader meets them. A block's lines joined at trailing backslashes are one command; blank lines and
comment lines are not commands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```bash\n(.*?)^```", re.DOTALL | re.MULTILINE)
TABLE_EXAMPLE = re.compile(r"`(siamdup [^`]+)`")

# How each kind of command is treated; anything not named here runs as written in the sandbox.
INSTALL = "install: not run (no network in tests); the extras it names must exist in pyproject.toml"
SUITE = "the test suite itself: .ci/run must run exactly this line"
SUITE_PART = "a part of the test suite, which runs anyway: the paths it names must exist"
GIT_HOOKS = "pre-commit: installs git hooks in the checkout or runs every hook; not run in tests"
REPO_CHECK = (
    "a check of the checkout (ruff, mypy): runs at the repository root, mypy only with SIAMDUP_DOCS_HEAVY=1"
)
TRAINING = (
    "heavy: trains a model (30-40 s a step on the sample on 2 busy cores, every step meeting new tensor "
    "shapes); runs as written in the sandbox only with SIAMDUP_DOCS_HEAVY=1, and otherwise the page's later "
    "commands read a copy of the shipped model where it would have written one"
)
BENCHMARK = (
    "heavy: regenerates a results table on the full data (minutes to hours on 2 cores); "
    "runs as written in the sandbox only with SIAMDUP_DOCS_HEAVY=1"
)


@dataclass(frozen=True)
class Command:
    page: str
    line: int
    text: str

    @property
    def treatment(self) -> str | None:
        if re.match(r"(python -m )?pip install", self.text):
            return INSTALL
        if self.text.split("#")[0].strip() == "python -m pytest -q":
            return SUITE
        if re.match(r"([A-Z_]+=\S+ )*python -m pytest", self.text):  # with environment settings or not
            return SUITE_PART
        if self.text.startswith("pre-commit"):
            return GIT_HOOKS
        if re.match(r"(ruff|mypy)\b", self.text):
            return REPO_CHECK
        if re.match(r"python -m (benchmarks|scripts)\.", self.text) and "--help" not in self.text:
            return BENCHMARK
        return None

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


def trains(command: Command) -> bool:
    """A `siamdup train` run: minutes even on the sample, as every step meets new tensor shapes."""
    words = command.text.split()
    return words[:2] == ["siamdup", "train"] and "--help" not in words


def models_used_before_written(page_commands: list[Command]) -> list[str]:
    """Model directories (models/..., runs/...) a page reads before any of its commands writes them."""
    written: set[str] = set()
    used: list[str] = []
    for command in page_commands:
        words = command.text.split()
        out = words[words.index("--out") + 1] if "--out" in words else None
        for word in words:
            if re.fullmatch(r"(models|runs)/[\w.-]+/?", word) and word != out and word not in written:
                used.append(word)
        if out:
            written.add(out)
    return list(dict.fromkeys(used))


def pages() -> list[Path]:
    docs = sorted(p for p in (REPO / "docs").rglob("*.md") if "hooks" not in p.parts)
    return [REPO / "README.md", *docs]


def commands(page: Path) -> list[Command]:
    text = page.read_text(encoding="utf-8")
    name = str(page.relative_to(REPO))
    found: list[tuple[int, str]] = []
    for block in FENCE.finditer(text):
        logical = re.sub(r"\\\n\s*", " ", block.group(1))
        for line in logical.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                found.append((block.start(1), line.strip()))
    rows = re.finditer(r"^\|.*$", text, re.MULTILINE) if page.name == "README.md" else ()
    table: list[tuple[int, str]] = []
    for row in rows:
        table.extend((row.start(), example) for example in TABLE_EXAMPLE.findall(row.group(0)))
    # The command table is a reference list, not a sequence to follow: its examples run in a sandbox of
    # their own, after one another.
    return [
        Command(page_name, text.count("\n", 0, at) + 1, line)
        for page_name, entries in ((name, found), (f"{name} (command table)", table))
        for at, line in sorted(entries, key=lambda f: f[0])
    ]
