"""Refuse a commit that adds or changes a large file: model weights and tokenizers change only at a release.

    python -m scripts.check_large_files [--max-kb 500] [FILE ...]

Run by pre-commit on the files it is given; only the files staged as added or modified are checked, so
`pre-commit run --all-files` passes on the files already committed. A release commits new shipped weights
with `SKIP=large-files git commit ...` (see docs/contributing.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def staged_files() -> set[str]:
    """Paths staged as added, copied, modified or renamed, relative to the repository root."""
    done = subprocess.run(
        ["git", "diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {name for name in done.stdout.split("\0") if name}


def too_large(files: list[str], max_kb: int) -> list[tuple[str, int]]:
    """(path, size in KB) of each staged file among `files` over `max_kb`."""
    staged = staged_files()
    found = []
    for name in files or sorted(staged):
        path = Path(name)
        if name in staged and path.is_file() and path.stat().st_size > max_kb * 1024:
            found.append((name, path.stat().st_size // 1024))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("files", nargs="*", help="files to check (default: every staged file)")
    parser.add_argument("--max-kb", type=int, default=500, help="the largest size allowed outside a release")
    args = parser.parse_args(argv)
    found = too_large(args.files, args.max_kb)
    for name, kb in found:
        print(
            f"{name}: {kb:,} KB staged, over the {args.max_kb:,} KB limit (weights change only at a release)"
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
