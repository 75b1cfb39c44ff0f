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
import itertools
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from documented_commands import (
    BENCHMARK,
    GIT_HOOKS,
    INSTALL,
    REPO,
    REPO_CHECK,
    SUITE,
    SUITE_PART,
    TRAINING,
    Command,
    commands,
    models_used_before_written,
    pages,
    trains,
)
from helpers import DEFAULT_QQP_DIR
from sandbox import make, missing_linked_data

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


# `siamdup serve` alone on its line, not sent to the background and not expected to fail (`|| ...`).
FOREGROUND_SERVE = re.compile(r"^([A-Z_]+=\S+\s+)*siamdup serve\b(?!.*(&\s*(#.*)?$|\|\|))")


def page_script(page_commands: list[Command]) -> str:
    """One bash script for the page, so background jobs (`&`, `kill %1`) carry from line to line as in a
    terminal. Before each command, its index and the time go to fd 3; a failing command ends the script.
    A `siamdup serve` in the foreground would block: it is started in the background instead and waited for
    on /health (the page's requests then go to it; the test stops it after the page)."""
    lines = ["set -o pipefail"]
    for i, command in enumerate(page_commands):
        lines.append(f'echo "{i} $(date +%s.%N)" >&3')
        if FOREGROUND_SERVE.search(command.text):
            lines.append(f"{command.text} &")
            lines.append(
                "for _ in $(seq 1 1200); do kill -0 $! 2>/dev/null || break; /usr/bin/curl -sf "
                '"http://127.0.0.1:$SIAMDUP_DOCS_PORT/health" >/dev/null && break; sleep 0.1; done'
            )
            lines.append(
                '/usr/bin/curl -sf "http://127.0.0.1:$SIAMDUP_DOCS_PORT/health" >/dev/null '
                '|| { echo "siamdup serve did not answer /health" >&2; false; }'
            )
        else:
            lines.append(command.text)
        lines.append(
            f'__status=$?; [ $__status -eq 0 ] || {{ echo "{i} failed $__status" >&3; exit $__status; }}'
        )
    lines.append(f'echo "{len(page_commands)} $(date +%s.%N)" >&3')
    return "\n".join(lines) + "\n"


def run_page(page_commands: list[Command], cwd: Path, env: dict[str, str]) -> None:
    markers = cwd.parent / "markers"
    script = cwd.parent / "page.sh"
    script.write_text(page_script(page_commands), encoding="utf-8")
    # Output to files, not pipes: a service the page leaves running holds them open after the script ends.
    output = {name: cwd.parent / f"page.{name}" for name in ("stdout", "stderr")}
    with output["stdout"].open("w") as stdout, output["stderr"].open("w") as stderr:
        returncode = subprocess.run(
            ["bash", "-c", f'exec 3>"{markers}"; . "{script}"'],
            cwd=cwd,
            env=env,
            stdout=stdout,
            stderr=stderr,
            timeout=COMMAND_TIMEOUT_S,
        ).returncode
    stdout, stderr = (output[name].read_text(errors="replace") for name in ("stdout", "stderr"))
    events = [line.split() for line in markers.read_text().splitlines()]
    times = [(int(e[0]), float(e[1])) for e in events if len(e) == 2]
    for (i, start), (_, end) in itertools.pairwise(times):
        print(f"{end - start:6.1f} s  {page_commands[i]}")  # shown with -s or -rA: where the time goes
    failed = [e for e in events if len(e) == 3]
    assert returncode == 0 and not failed, (
        f"{page_commands[int(failed[0][0])] if failed else 'the page script'}\nexit {returncode}\n"
        f"--- stdout\n{stdout[-3000:]}\n--- stderr\n{stderr[-3000:]}"
    )


@pytest.mark.parametrize("page", RUNNABLE_PAGES)
def test_page_commands_run_as_written(page: str, tmp_path: Path, fork_server) -> None:
    server_socket, pidfile = fork_server
    page_commands = [c for c in ALL if c.page == page and c.treatment is None]
    run_now = [c for c in page_commands if HEAVY or c not in HEAVY_TRAINING]
    missing = sorted({name for c in run_now for name in missing_linked_data(c.text)})
    if missing:
        pytest.skip(f"{page} reads ../shared/data/{{{','.join(missing)}}}, which is absent on this machine")
    env = make(tmp_path, real_data(), server_socket, models_used_before_written(run_now))
    try:
        run_page(run_now, tmp_path / "work", env)
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
        run_page([command], tmp_path / "work", env)
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


@pytest.mark.parametrize("command", [c for c in ALL if c.treatment == SUITE_PART], ids=str)
def test_suite_part_names_existing_tests(command: Command) -> None:
    words = command.text.split()
    arguments = words[words.index("pytest") + 1 :]
    valued = {i + 1 for i, w in enumerate(arguments) if w in ("-m", "-k")}  # options followed by a value
    paths = [w.split("::")[0] for i, w in enumerate(arguments) if not w.startswith("-") and i not in valued]
    assert paths and all((REPO / p).exists() for p in paths), (
        f"{command}: names a test path that does not exist"
    )


@pytest.mark.parametrize("command", [c for c in ALL if c.treatment == REPO_CHECK], ids=str)
def test_repository_check_passes(command: Command) -> None:
    if command.text.startswith("mypy") and not HEAVY:
        pytest.skip(REPO_CHECK)
    result = subprocess.run(
        ["bash", "-c", command.text], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


@pytest.mark.parametrize("command", [c for c in ALL if c.treatment == GIT_HOOKS], ids=str)
def test_git_hook_command(command: Command) -> None:
    pytest.skip(GIT_HOOKS)
