"""Run the malformed-input corpus through the CLI and print what each case did.

Usage: python -m benchmarks.reliability.malformed_inputs [--processes]

The cases live in tests/malformed/cases.py, shared with the test that asserts them. Each runs in-process
(typer's CliRunner; fast); --processes runs each as `python -m siamdup` instead (minutes: one Python
start-up each). Prints one row a case (exit code and the message's first line) and the totals; exits 1
when any case printed a traceback or did something else wrong, other than a known failure fixed elsewhere.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.malformed.cases import CASES, Outcome, run_case


def run_all(processes: bool) -> list[Outcome]:
    outcomes = []
    for case in CASES:
        with tempfile.TemporaryDirectory(prefix="siamdup-malformed-") as folder:
            outcomes.append(run_case(case, Path(folder), process=processes))
    return outcomes


def print_report(outcomes: list[Outcome]) -> None:
    width = max(len(o.case.name) for o in outcomes)
    print(f"{'case':<{width}}  exit  message")
    for o in outcomes:
        exit_code = "skip" if o.skipped else str(o.exit_code)
        message = o.skipped or o.message
        known = f" (known: {o.case.known})" if o.case.known else ""
        flag = f"  <-- {'; '.join(o.problems)}{known}" if o.problems else ""
        print(f"{o.case.name:<{width}}  {exit_code:>4}  {message}{flag}")
    run = [o for o in outcomes if not o.skipped]
    print()
    print(f"cases: {len(outcomes)}  run: {len(run)}  skipped: {len(outcomes) - len(run)}")
    print(f"refused with a message: {sum(1 for o in run if o.exit_code != 0 and not o.problems)}")
    print(f"succeeded, skips reported: {sum(1 for o in run if o.case.ok and not o.problems)}")
    print(f"tracebacks: {sum(1 for o in run if o.traceback)}")
    print(f"cases with any problem: {sum(1 for o in run if o.problems)}", end="")
    print(f" ({sum(1 for o in run if o.problems and o.case.known)} known, fixed elsewhere)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", action="store_true", help="run each case as its own process")
    outcomes = run_all(parser.parse_args().processes)
    print_report(outcomes)
    return 1 if any(o.problems and not o.case.known for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
