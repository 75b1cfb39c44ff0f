"""Child processes for the fault scenarios: start siamdup, kill it with SIGKILL, read what it said."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SHORT_RUNS = 2  # kills per scenario in the default test run
CI_RUNS = 20  # kills of the service and of `index add` in CI (the figure: >= 20 each)
COMMAND_TIMEOUT = 180.0  # seconds any one child may take before the scenario gives up on it
TRACEBACK = "Traceback (most recent call last)"


def fault_runs() -> int | None:
    """Kills of each writer for the long runs: $SIAMDUP_FAULT_RUNS, else 20 when $CI is "true", else None
    (no long runs)."""
    if os.environ.get("SIAMDUP_FAULT_RUNS"):
        return max(1, int(os.environ["SIAMDUP_FAULT_RUNS"]))
    return CI_RUNS if os.environ.get("CI", "").lower() == "true" else None


@dataclass
class Tally:
    """One row of the fault report; `problems` says what went wrong, one line each."""

    scenario: str
    kill_runs: int = 0
    acknowledged: int = 0
    lost: int = 0
    corruption_cases: int = 0
    refused_by_name: int = 0
    wrong_answers: int = 0
    tracebacks: int = 0
    problems: list[str] = field(default_factory=list)
    lost_ids: set[str] = field(default_factory=set, repr=False)

    def mark_lost(self, ids: list[str]) -> None:
        """Count each lost write once, however many later checks find it missing again."""
        self.lost_ids.update(ids)
        self.lost = len(self.lost_ids)

    def problem(self, message: str) -> None:
        """Record one; a long one keeps its start and its end (where a traceback says what failed)."""
        self.problems.append(message if len(message) <= 900 else f"{message[:300]} [...] {message[-600:]}")

    def summary(self) -> str:
        return f"{self.scenario}: " + ("ok" if not self.problems else "\n  ".join(["", *self.problems]))


def child_env() -> dict[str, str]:
    """The environment of every child: this checkout's benchmarks importable, one thread (2 busy cores)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(ROOT)) if p)
    env.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", COLUMNS="200", NO_COLOR="1", TERM="dumb")
    return env


def siamdup_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "siamdup", *(str(a) for a in args)]


def worker_command(*args: object) -> list[str]:
    return [sys.executable, "-m", "benchmarks.reliability.faults.worker", *(str(a) for a in args)]


@dataclass
class Child:
    """A started process whose stdout and stderr go to files (a pipe nobody reads could block it)."""

    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def ended(self) -> bool:
        return self.process.poll() is not None

    def kill(self) -> None:
        """SIGKILL, then reap; harmless when it already ended."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=COMMAND_TIMEOUT)


def start(command: Sequence[str], log: Path) -> Child:
    with open(log, "wb") as f:
        process = subprocess.Popen(
            command, stdout=f, stderr=subprocess.STDOUT, env=child_env(), cwd=ROOT, start_new_session=True
        )
    return Child(process, log)


def run(command: Sequence[str], log: Path, timeout: float = COMMAND_TIMEOUT) -> tuple[int, str]:
    """Run to the end (killed after `timeout`); its exit code and output."""
    child = start(command, log)
    try:
        code = child.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = -9
    finally:
        child.kill()
    return code, child.output()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def listing(directory: Path) -> frozenset[str]:
    try:
        return frozenset(os.listdir(directory))
    except OSError:
        return frozenset()


def kill_at_random_point(child: Child, watched: Path, rng: random.Random, window: float) -> bool:
    """SIGKILL `child` at a seeded random point; True when it was still running then.

    Half the kills fall uniformly in the first `window` seconds; the other half shortly after the
    `watched` directory first changes (a save or a lock starting), where an unsafe writer is fragile.
    """
    if rng.random() < 0.5:
        delay = rng.uniform(0.0, window)
        ended = wait_until(lambda: child.process.poll() is not None, delay)
    else:
        before = listing(watched)
        extra = rng.uniform(0.0, 0.05)
        wait_until(lambda: child.process.poll() is not None or listing(watched) != before, window)
        ended = wait_until(lambda: child.process.poll() is not None, extra)
    running = not ended and child.process.poll() is None
    child.kill()
    return running


Cli = Callable[[list[str]], tuple[int, str, str]]  # args -> exit code, stdout, stdout + stderr


def subprocess_cli(args: list[str]) -> tuple[int, str, str]:
    """The real command line, in a child process."""
    done = subprocess.run(
        siamdup_command(*args), capture_output=True, text=True, env=child_env(), timeout=COMMAND_TIMEOUT
    )
    return done.returncode, done.stdout, done.stdout + done.stderr


def in_process_cli(args: list[str]) -> tuple[int, str, str]:
    """The same typer app in this process (no interpreter start-up): an exception escaping it is a
    traceback the real command would have printed."""
    import traceback

    from typer.testing import CliRunner

    from siamdup.cli import app

    result = CliRunner().invoke(app, args)
    output = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, result.stdout, output


def check_clean_refusal(tally: Tally, what: str, code: int, output: str) -> None:
    """A failed command must fail with a message, not a traceback."""
    if TRACEBACK in output or code not in (0, 1, 2):
        tally.tracebacks += TRACEBACK in output
        tally.problem(f"{what}: exit {code} with a traceback or crash:\n{output[-1500:]}")
