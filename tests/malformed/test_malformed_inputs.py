"""Every case of the malformed-input corpus: no traceback, a refusal that names the problem or a reported skip."""

from pathlib import Path

import pytest

from tests.malformed.cases import CASES, SUBPROCESS_CASES, run_case


def test_case_names_are_unique() -> None:
    assert len({case.name for case in CASES}) == len(CASES)


def _param(case):
    marks = [pytest.mark.xfail(reason=case.known, strict=False)] if case.known else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(case) for case in CASES])
def test_malformed_input(case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert not outcome.problems, f"{outcome.problems} (exit {outcome.exit_code}):\n{outcome.output[-3000:]}"


BY_NAME = {case.name: case for case in CASES}


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_malformed_input_in_a_process_of_its_own(name: str, tmp_path: Path) -> None:
    outcome = run_case(BY_NAME[name], tmp_path, process=True)
    assert not outcome.problems, f"{outcome.problems} (exit {outcome.exit_code}):\n{outcome.output[-3000:]}"
    assert outcome.exit_code == 2
