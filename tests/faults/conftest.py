"""The fault-injection suite: its scenarios live in benchmarks/reliability/faults (shared with the
report script); the long runs (marker `faults`) run in CI or with SIAMDUP_FAULT_RUNS=N."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the scenarios are importable however pytest was started

from benchmarks.reliability.faults import fault_runs  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if fault_runs() is not None:
        return
    skip = pytest.mark.skip(reason="long fault runs: set CI=true or SIAMDUP_FAULT_RUNS=N to run them")
    for item in items:
        if item.get_closest_marker("faults") is not None:
            item.add_marker(skip)
