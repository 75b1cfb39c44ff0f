"""Each stored file of a model and an index, corrupted (same size), truncated or deleted: the CLI
refuses it naming the file, never a traceback, never a wrong answer (cases: benchmarks/reliability/faults)."""

from pathlib import Path

import pytest

from benchmarks.reliability.faults.corruption import (
    DAMAGES,
    INDEX_FILES,
    MODEL_FILES,
    corruption_cases,
)
from benchmarks.reliability.faults.processes import subprocess_cli


def test_every_damaged_file_is_refused_by_name(tmp_path: Path) -> None:
    tally = corruption_cases(tmp_path)
    assert tally.corruption_cases == len(DAMAGES) * (len(MODEL_FILES) + len(INDEX_FILES)) == 28
    assert tally.problems == [], tally.summary()
    assert (tally.wrong_answers, tally.tracebacks) == (0, 0)


@pytest.mark.faults
def test_the_real_command_line_judges_as_the_in_process_one(tmp_path: Path) -> None:
    """Two cases through `python -m siamdup` in a child process, as a user would meet them."""
    cases = {"index entries.jsonl flip", "model model.safetensors flip"}
    tally = corruption_cases(tmp_path, cli=subprocess_cli, only=cases)
    assert tally.corruption_cases == 2
    assert tally.problems == [], tally.summary()
    assert tally.refused_by_name == 2
