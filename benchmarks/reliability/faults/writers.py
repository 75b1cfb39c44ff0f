"""Kills of index writers: `siamdup index add`, the service under a POST /index burst, and both at once.

After every kill the index is loaded as a restart would load it, and every id whose add was
acknowledged (exit 0 of the CLI, a 2xx of the service) must be there.
"""

from __future__ import annotations

import random
import re
import time
from pathlib import Path

from benchmarks.reliability.faults.materials import make_index, missing_ids, write_questions
from benchmarks.reliability.faults.processes import (
    COMMAND_TIMEOUT,
    TRACEBACK,
    Tally,
    check_clean_refusal,
    kill_at_random_point,
    run,
    siamdup_command,
    start,
    wait_until,
)
from benchmarks.reliability.faults.service import Burst, Server

ADD_BATCH = 200  # questions per `index add`: enough that encoding and saving take a while
SEED_QUESTIONS = 50
ADDED = re.compile(r"^added [\d,]+ questions", re.MULTILINE)  # the CLI's word that an add is done


def _check_stored(
    tally: Tally, what: str, index_dir: Path, acknowledged: list[str], pending: list[str] = ()
) -> None:
    """Every acknowledged id is stored, and an unacknowledged batch (`pending`) is stored whole or not at all."""
    pending = [qid for qid in pending if qid not in set(acknowledged)]
    try:
        missing = set(missing_ids(index_dir, [*acknowledged, *pending]))
    except Exception as e:  # the index must load after any kill
        tally.problem(f"{what}: the index does not load: {type(e).__name__}: {e}")
        return
    lost = [qid for qid in acknowledged if qid in missing]
    tally.mark_lost(lost)
    if lost:
        tally.problem(f"{what}: {len(lost)} of {len(acknowledged)} acknowledged adds lost, e.g. {lost[:3]}")
    stored = sum(qid not in missing for qid in pending)
    if stored not in (0, len(pending)):
        tally.problem(f"{what}: {stored} of the {len(pending)} questions of one unfinished add are stored")


def cli_add_kills(workdir: Path, runs: int, seed: int = 0) -> Tally:
    """Each run: `siamdup index add` of a new batch, killed at a random point (or left to finish)."""
    tally, rng = Tally("index add (CLI)"), random.Random(seed)
    index_dir = make_index(workdir / "cli-index", [f"seed-{i}" for i in range(SEED_QUESTIONS)])
    acknowledged = [f"seed-{i}" for i in range(SEED_QUESTIONS)]
    window = None
    for n in range(-1, runs):  # run -1 is not killed: it times a whole add, the window of the kills
        batch = [f"add{n}-{i}" for i in range(ADD_BATCH)]
        source = write_questions(workdir / f"add{n}.csv", batch)
        command = siamdup_command(
            "index", "add", "--index", index_dir, "--input", source, "--id-column", "id"
        )
        started = time.monotonic()
        child = start(command, workdir / f"add{n}.log")
        try:
            if window is None:
                child.process.wait(timeout=COMMAND_TIMEOUT)
                window = 1.3 * (time.monotonic() - started)
            else:
                tally.kill_runs += kill_at_random_point(child, index_dir, rng, window)
        finally:
            child.kill()
        said = child.output()
        if child.process.returncode == 0 or ADDED.search(said):  # what the user saw counts as done
            acknowledged += batch
            tally.acknowledged += len(batch)
        elif TRACEBACK in said:
            check_clean_refusal(tally, f"run {n}: index add", child.process.returncode, said)
        _check_stored(tally, f"run {n}", index_dir, acknowledged, pending=batch)
    return tally


def serve_burst_kills(workdir: Path, runs: int, seed: int = 0) -> Tally:
    """Each run: start the service on the same index, post from 3 clients, kill it mid-burst."""
    tally, rng = Tally("POST /index burst"), random.Random(seed)
    index_dir = make_index(workdir / "served-index", [f"seed-{i}" for i in range(SEED_QUESTIONS)])
    acknowledged: list[str] = []
    for n in range(runs):
        server = Server(index_dir, workdir / f"serve{n}.log")
        try:
            if not server.ready():
                check_clean_refusal(
                    tally, f"run {n}: serve", server.child.process.poll() or 0, server.child.output()
                )
                tally.problem(
                    f"run {n}: the service did not start after a kill:\n{server.child.output()[-800:]}"
                )
                continue
            with Burst(server, f"b{n}") as burst:
                wait_until(lambda b=burst: len(b.acknowledged) > 0, 30)
                tally.kill_runs += kill_at_random_point(server.child, index_dir, rng, window=1.0)
        finally:
            server.child.kill()
        acknowledged += burst.acknowledged
        tally.acknowledged += len(burst.acknowledged)
        _check_stored(tally, f"run {n}", index_dir, acknowledged)
    return tally


def concurrent_writers(workdir: Path, runs: int, seed: int = 0) -> Tally:
    """Each run: the service takes a POST burst while `siamdup index add` writes the same index; the CLI
    must be refused (by a message, not a traceback) or serialised; then the service is killed."""
    tally, rng = Tally("serve + index add"), random.Random(seed)
    index_dir = make_index(workdir / "shared-index", [f"seed-{i}" for i in range(SEED_QUESTIONS)])
    acknowledged: list[str] = []
    for n in range(runs):
        batch = [f"cli{n}-{i}" for i in range(ADD_BATCH)]
        source = write_questions(workdir / f"cli{n}.csv", batch)
        server = Server(index_dir, workdir / f"both-serve{n}.log")
        try:
            if not server.ready():
                tally.problem(f"run {n}: the service did not start:\n{server.child.output()[-800:]}")
                continue
            with Burst(server, f"w{n}") as burst:
                wait_until(lambda b=burst: len(b.acknowledged) > 0, 30)
                command = siamdup_command(
                    "index", "add", "--index", index_dir, "--input", source, "--id-column", "id"
                )
                code, said = run(command, workdir / f"both-add{n}.log")
                time.sleep(rng.uniform(0.1, 0.5))  # the service keeps writing after the CLI is done
                tally.kill_runs += kill_at_random_point(server.child, index_dir, rng, window=1.0)
        finally:
            server.child.kill()
        acknowledged += burst.acknowledged
        tally.acknowledged += len(burst.acknowledged)
        if code == 0 or ADDED.search(said):
            acknowledged += batch
            tally.acknowledged += len(batch)
        else:
            check_clean_refusal(tally, f"run {n}: index add beside the service", code, said)
        _check_stored(tally, f"run {n}", index_dir, acknowledged, pending=batch)
    return tally
