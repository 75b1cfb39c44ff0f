"""The fault-injection report: kill -9 of every kind of writer and damaged files, counted.

    python -m benchmarks.reliability.fault_report --runs 20

Runs the scenarios of `benchmarks.reliability.faults` (the same code as tests/faults) and prints the
machine and one row per scenario: kills, writes acknowledged, acknowledged writes lost, corruption
cases, refusals naming the damaged file, silent wrong answers, tracebacks; then every problem found.
Exits 1 when anything was lost, wrong or a traceback.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.reliability.faults import KILL_SCENARIOS, Tally, corruption_cases, run_kill_scenario
from benchmarks.reliability.faults.processes import in_process_cli, subprocess_cli

COLUMNS = (
    ("scenario", "scenario"),
    ("kill runs", "kill_runs"),
    ("writes acknowledged", "acknowledged"),
    ("lost", "lost"),
    ("corruption cases", "corruption_cases"),
    ("refused by name", "refused_by_name"),
    ("silent wrong answers", "wrong_answers"),
    ("tracebacks", "tracebacks"),
)


def cpu_seconds() -> float:
    """CPU time of this process and of every child it waited for: the cost on a machine of its own."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def machine() -> str:
    return (
        f"Python {platform.python_version()}, torch {torch.__version__}, {os.cpu_count()} CPUs "
        f"({platform.machine()}, {platform.system()})"
    )


def table(tallies: list[Tally]) -> str:
    """A markdown table, one row per scenario and a total."""
    total = Tally("total")
    for tally in tallies:
        for _, field in COLUMNS[1:]:
            setattr(total, field, getattr(total, field) + getattr(tally, field))
    rows = [" | ".join(title for title, _ in COLUMNS), " | ".join("---" for _ in COLUMNS)]
    for tally in [*tallies, total]:
        cells = [tally.scenario, *(f"{getattr(tally, field):,}" for _, field in COLUMNS[1:])]
        if tally is total:
            cells = [f"**{cell}**" for cell in cells]
        rows.append(" | ".join(cells))
    return "\n".join(f"| {row} |" for row in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="kill -9 runs of each writer (default 20)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill points and the damaged bytes")
    parser.add_argument(
        "--subprocess-cli", action="store_true", help="run the corruption cases through `python -m siamdup`"
    )
    args = parser.parse_args()
    print(machine(), flush=True)
    tallies = []
    with tempfile.TemporaryDirectory(prefix="siamdup-faults-") as workdir:
        for name in [*KILL_SCENARIOS, "corrupted files"]:
            start, cpu = time.perf_counter(), cpu_seconds()
            if name in KILL_SCENARIOS:
                tallies.append(run_kill_scenario(name, Path(workdir), args.runs, args.seed))
            else:
                cli = subprocess_cli if args.subprocess_cli else in_process_cli
                folder = Path(workdir) / "corruption"
                folder.mkdir()
                tallies.append(corruption_cases(folder, cli=cli, seed=args.seed))
            wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            print(f"  {name}: {wall:.0f} s wall, {cpu:.0f} s CPU", flush=True)
    print(f"\n{table(tallies)}\n")
    problems = [tally.summary() for tally in tallies if tally.problems]
    print("\n".join(problems) if problems else "no problems found")
    return 1 if any(t.lost or t.wrong_answers or t.tracebacks or t.problems for t in tallies) else 0


if __name__ == "__main__":
    sys.exit(main())
