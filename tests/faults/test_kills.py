"""kill -9 of every kind of writer at seeded random points: nothing acknowledged is lost, every directory
loads or is refused by name, readers never break a save (scenarios: benchmarks/reliability/faults)."""

from pathlib import Path

import pytest

from benchmarks.reliability.faults import KILL_SCENARIOS, SHORT_RUNS, Tally, fault_runs, run_kill_scenario


def assert_nothing_lost(tally: Tally) -> None:
    assert tally.problems == [], tally.summary()
    assert (tally.lost, tally.tracebacks) == (0, 0)
    assert tally.kill_runs >= 1, "no writer was killed while it ran: the scenario proved nothing"


@pytest.mark.parametrize("scenario", KILL_SCENARIOS)
def test_killed_writers_lose_nothing_acknowledged(scenario: str, tmp_path: Path) -> None:
    assert_nothing_lost(run_kill_scenario(scenario, tmp_path, SHORT_RUNS, seed=0))


@pytest.mark.faults
@pytest.mark.parametrize("scenario", KILL_SCENARIOS)
def test_many_kills_lose_nothing_acknowledged(scenario: str, tmp_path: Path) -> None:
    runs = fault_runs() or SHORT_RUNS
    assert_nothing_lost(run_kill_scenario(scenario, tmp_path, runs, seed=1))
