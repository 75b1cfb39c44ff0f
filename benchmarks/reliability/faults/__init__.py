"""Fault-injection scenarios shared by `tests/faults` and `benchmarks/reliability/fault_report.py`.

Every scenario drives siamdup from the outside (the CLI in subprocesses, the HTTP service, the public
Python API to check what was stored), kills writers with SIGKILL at seeded random points, and returns a
`Tally`: kills, writes acknowledged, acknowledged writes lost, corruption cases, refusals naming the
damaged file, silent wrong answers and tracebacks, with a line per problem found.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from benchmarks.reliability.faults.corruption import corruption_cases
from benchmarks.reliability.faults.processes import SHORT_RUNS, Tally, fault_runs
from benchmarks.reliability.faults.saves import save_loop_kills, training_kills
from benchmarks.reliability.faults.writers import cli_add_kills, concurrent_writers, serve_burst_kills

# name -> (scenario, share): a scenario runs ceil(runs / share) kills, so the slow ones (a whole
# training, a writer and a reader, the service and the CLI together) keep the long run within budget.
KILL_SCENARIOS: dict[str, tuple[Callable[[Path, int, int], Tally], int]] = {
    "training": (training_kills, 10),
    "save loop + readers": (save_loop_kills, 5),
    "index add (CLI)": (cli_add_kills, 1),
    "POST /index burst": (serve_burst_kills, 1),
    "serve + index add": (concurrent_writers, 10),
}


def run_kill_scenario(name: str, workdir: Path, runs: int, seed: int = 0) -> Tally:
    """Run one kill scenario with its share of `runs` kills, in a fresh folder under `workdir`."""
    scenario, share = KILL_SCENARIOS[name]
    folder = workdir / re.sub(r"\W+", "-", name).strip("-")
    folder.mkdir(parents=True, exist_ok=True)
    return scenario(folder, max(1, -(-runs // share)), seed)


__all__ = [
    "KILL_SCENARIOS",
    "SHORT_RUNS",
    "Tally",
    "corruption_cases",
    "fault_runs",
    "run_kill_scenario",
]
