"""Every command line shown in README.md and docs/ runs, as written, in a sandbox (see sandbox.py).

One test per page: its commands run in order in one sandbox, as a reader following the page would run
them, each through bash with `set -o pipefail`. Commands that cannot run in a test get an explicit
treatment (documented_commands.py): `pip install` lines are checked against pyproject.toml's extras, the
test-suite line against .ci/run, and benchmark commands, which regenerate results on the full data, run only
with SIAMDUP_DOCS_HEAVY=1. `siamdup serve` is started in the background, the page's requests go to it, and
it is stopped by its pid after the page.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DEFAULT_QQP_DIR
from documented_commands import (
    BENCHMARK,
    INSTALL,
    REPO,
    SUITE,
    TRAINING,
    Command,
    commands,
    models_used_before_written,
    pages,
    trains,
)
from sandbox import make

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

ALL = [c for page in pages() for c in commands(page)]
RUNNABLE_PAGES = sorted({c.page for c in ALL if c.treatment is None})
HEAVY_TRAINING = [c for c in ALL if c.treatment is None and trains(c)]
HEAVY = os.environ.get("SIAMDUP_DOCS_HEAVY") == "1"
COMMAND_TIMEOUT_S = 600


def real_data() -> Path | None:
    path = Path(os.environ.get("SIAMDUP_QQP_DIR", DEFAULT_QQP_DIR))
    return path if path.is_dir() else None


@pytest.fixture(scope="module")
def fork_server(tmp_path_factory):
    """One process that has imported siamdup's CLI and forks a child per `siamdup` command."""
    folder = tmp_path_factory.mktemp("forkserver")
    server_socket, pidfile = folder / "siamdup.sock", folder / "children"
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}:{REPO}"}
    server = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("forkserver.py")),
            "serve",
            str(server_socket),
            str(pidfile),
        ],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert server.stdout.readline().strip() == b"ready"
    yield server_socket, pidfile
    server.terminate()
    server.wait(timeout=30)


def stop_children(pidfile: Path) -> None:
    """Stop what a page left running (`siamdup serve`), by the pids the fork server recorded."""
    if not pidfile.exists():
        return
    for pid in {int(line) for line in pidfile.read_text().split()}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    pidfile.write_text("")


def run(command: Command, cwd: Path, env: dict[str, str]) -> None:
    start = time.perf_counter()
    result = subprocess.run(
        ["bash", "-c", f"set -o pipefail\n{command.text}"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
    )
    print(f"{time.perf_counter() - start:6.1f} s  {command}")  # shown with -s or -rA: where the time goes
    assert result.returncode == 0, (
        f"{command}\nexit {result.returncode}\n--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
    )


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_page_commands_run_as_written(page: str, tmp_path: Path, fork_server) -> None:
    server_socket, pidfile = fork_server
    page_commands = [c for c in ALL if c.page == page and c.treatment is None]
    run_now = [c for c in page_commands if HEAVY or c not in HEAVY_TRAINING]
    env = make(tmp_path, real_data(), server_socket, models_used_before_written(run_now))
    try:
        for command in run_now:
            run(command, tmp_path / "work", env)
    finally:
        stop_children(pidfile)


@pytest.mark.parametrize("command", HEAVY_TRAINING, ids=str)
def test_heavy_training_command(command: Command) -> None:
    """Listed one by one so that each shows in the report; with SIAMDUP_DOCS_HEAVY=1 its page test ran it."""
    if not HEAVY:
        pytest.skip(TRAINING)


@pytest.mark.parametrize("command", [c for c in ALL if c.treatment == BENCHMARK], ids=str)
def test_benchmark_command(command: Command, tmp_path: Path, fork_server) -> None:
    if not HEAVY:
        pytest.skip(BENCHMARK)
    env = make(tmp_path, real_data(), fork_server[0])
    try:
        run(command, tmp_path / "work", env)
    finally:
        stop_children(fork_server[1])


@pytest.mark.parametrize("command", [c for c in ALL if c.treatment == INSTALL], ids=str)
def test_install_command_names_existing_extras(command: Command) -> None:
    if tomllib is None:
        pytest.skip("reading pyproject.toml needs tomllib (Python 3.11+)")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    named = [e.strip() for group in re.findall(r"\[([^\]]+)\]", command.text) for e in group.split(",")]
    assert named, f"{command}: names no extra"
    assert set(named) <= set(extras), f"{command}: unknown extras {set(named) - set(extras)}"


@pytest.mark.parametrize("command", [c for c in ALL if c.treatment == SUITE], ids=str)
def test_suite_command_is_what_ci_runs(command: Command) -> None:
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    shown = command.text.split("#")[0].strip()
    assert shown in ci_lines, f"{command}: .ci/run does not run exactly this line"


def test_every_command_is_run_or_has_a_treatment() -> None:
    assert ALL, "no documented commands found"
    assert any(c.page == "README.md" for c in ALL)
    assert RUNNABLE_PAGES
