"""Distributed training on CPU: two gloo processes against one process, and real torchrun launches.

The step tests spawn two processes (torch.multiprocessing); the torchrun tests run `torchrun --nproc-per-node 2
-m siamdup train` on the synthetic pairs, once straight through, once with a worker killed and resumed.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from helpers import tiny_config
from rich.console import Console

from siamdup import Siamese
from siamdup.losses import InBatchSoftmaxLoss, MinedTripletLoss
from siamdup.training.batches import Batch, batch_share, make_batch
from siamdup.training.checkpoints import CHECKPOINT
from siamdup.training.distributed import Ranks
from siamdup.training.loop import Run, batch_loss, start_run

QUIET = Console(quiet=True)
SRC = Path(__file__).resolve().parents[2] / "src"
B = 8  # pairs per rank


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def global_step(run: Run) -> tuple[Batch, list]:
    """The first global batch of 2·B pairs whose halves drew different numbers of hard negatives (so the
    uneven gather is exercised), and 4 labelled non-duplicates."""
    rows = next(iter(run.sampler))
    assert len(rows) == 2 * B
    for seed in range(100):
        batch = make_batch(run.data, rows, random.Random(seed), hard_negatives=True)
        counts = [len(batch_share(batch, r, 2).negatives) for r in range(2)]
        if counts[0] != counts[1]:
            return batch, run.data.non_duplicates[:4]
    raise AssertionError("no batch with uneven negatives")


def gradients(run: Run) -> list[torch.Tensor]:
    return [p.grad.clone() for p in run.model.encoder.parameters()]


def one_step(run: Run, batch: Batch, chunk: list) -> tuple[float, list[torch.Tensor]]:
    run.optimizer.zero_grad(set_to_none=True)
    loss = batch_loss(run, batch, chunk)
    loss.backward()
    return run.ranks.mean(loss.item()), gradients(run)


def compare_step(rank: int, port: int, files: tuple[Path, Path]) -> None:
    """In each of two processes: the distributed step's loss and gradients against one process's."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    ranks = Ranks(rank, 2, torch.device("cpu"))
    try:
        for loss_name in ("in-batch-softmax", "mined-triplet"):
            for local in (False, True):
                # no dropout: the processes and the reference must compute the same function
                config = tiny_config(batch_size=B, dropout=0.0, loss=loss_name, local_negatives=local)
                torch.manual_seed(0)
                run = start_run(*files, config, ranks, None, QUIET)
                torch.manual_seed(0)
                alone = start_run(*files, replace(config, batch_size=2 * B), Ranks(), None, QUIET)
                batch, chunk = global_step(alone)
                parts = [batch_share(batch, r, 2) for r in range(2)]
                loss, grads = one_step(run, parts[rank], ranks.share(chunk))
                if local:  # the mean of the two halves' own losses
                    alone.optimizer.zero_grad(set_to_none=True)
                    halves = [batch_loss(alone, parts[r], chunk[2 * r : 2 * r + 2]) for r in range(2)]
                    expected = (halves[0] + halves[1]) / 2
                    expected.backward()
                    expected_loss, expected_grads = expected.item(), gradients(alone)
                else:
                    expected_loss, expected_grads = one_step(alone, batch, chunk)
                case = f"{loss_name}, local={local}, rank {rank}"
                assert loss == pytest.approx(expected_loss, rel=1e-5), case
                for got, want in zip(grads, expected_grads, strict=True):
                    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-6, msg=case)
    finally:
        dist.destroy_process_group()


def test_a_two_process_step_equals_one_process_step(synthetic_files: tuple[Path, Path]) -> None:
    """Gathered negatives: the 2 × B step is the 2B-batch step; local ones: the mean of two B-batch steps."""
    mp.spawn(compare_step, args=(free_port(), synthetic_files), nprocs=2, join=True)


@pytest.mark.parametrize("loss", [InBatchSoftmaxLoss(scale=20.0), MinedTripletLoss(reduction="mean")])
def test_a_loss_over_some_rows_is_their_share_of_the_batch_loss(loss: torch.nn.Module) -> None:
    """What each rank computes: its rows scored against the whole batch; the halves average to the whole."""
    torch.manual_seed(0)
    anchors, positives, negatives = (
        torch.nn.functional.normalize(torch.randn(n, 8), dim=1) for n in (6, 6, 3)
    )
    halves = [loss(anchors, positives, negatives, rows=slice(s, s + 3)) for s in (0, 3)]
    whole = loss(anchors, positives, negatives)
    assert ((halves[0] + halves[1]) / 2).item() == pytest.approx(whole.item(), rel=1e-6)
    assert halves[0].item() != pytest.approx(halves[1].item())


def test_the_global_batch_is_cluster_disjoint_across_ranks(synthetic_files: tuple[Path, Path]) -> None:
    torch.manual_seed(0)
    run = start_run(*synthetic_files, tiny_config(batch_size=2 * B), Ranks(), None, QUIET)
    cluster_of = {
        tuple(ids): int(c) for ids, c in zip(run.data.questions, run.data.question_clusters, strict=True)
    }
    rng = random.Random(0)
    for epoch in (1, 2):
        run.sampler.set_epoch(epoch)
        for rows in run.sampler:
            batch = make_batch(run.data, rows, rng, hard_negatives=True)
            parts = [batch_share(batch, r, 2) for r in range(2)]
            row_clusters = [{cluster_of[tuple(a)] for a in part.anchors} for part in parts]
            assert not row_clusters[0] & row_clusters[1]
            assert len(row_clusters[0]) == len(row_clusters[1]) == B
            for part in parts:  # each rank's extra negatives are negatives for every rank's rows
                assert not {cluster_of[tuple(n)] for n in part.negatives} & (
                    row_clusters[0] | row_clusters[1]
                )
            # the shares, side by side, are the global batch
            assert parts[0].anchors + parts[1].anchors == batch.anchors
            assert parts[0].negatives + parts[1].negatives == batch.negatives


TINY = ["--d-model", "16", "--batch-size", "8", "--min-frequency", "1", "--lr", "0.01"]
TINY += ["--warmup-steps", "5", "--patience", "100", "--max-minutes", "5"]


def launch(command: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a torchrun command in its own session; on a timeout its ranks are stopped too, not orphaned."""
    with subprocess.Popen(
        command,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            ranks = worker_pids(process.pid).values() if Path("/proc/self/environ").exists() else []
            for pid in ranks:  # torchrun starts its ranks in sessions of their own
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate()
            raise AssertionError(f"{command[:8]} did not finish in {timeout} s\n{stderr[-3000:]}") from None
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def torchrun(*args: str) -> list[str]:
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    return [*launch, "-m", "siamdup", "train", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "OMP_NUM_THREADS": "1", "COLUMNS": "200"}


def test_torchrun_trains_a_model_that_loads(synthetic_files: tuple[Path, Path], tmp_path: Path) -> None:
    train, dev = synthetic_files
    out = tmp_path / "model"
    command = torchrun("--train", str(train), "--dev", str(dev), "--out", str(out), "--epochs", "2", *TINY)
    done = launch(command)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("dev accuracy") == 1  # rank 0 speaks for the run
    model = Siamese.load(out)
    metrics = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == [1, 2]
    assert metrics["config"]["batch_size"] == 8
    assert metrics["train"]["steps"] > 0
    scores = model.similarity(["how do i learn chess?"], ["what is the best way to learn chess?"])
    assert scores.shape == (1,)


def worker_pids(launcher: int) -> dict[int, int]:
    """rank -> pid of the launcher's worker processes, read from /proc."""
    pids = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            env = (stat.parent / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        rank = [e for e in env if e.startswith(b"RANK=")]
        if parent == launcher and rank:
            pids[int(rank[0][5:])] = int(stat.parent.name)
    return pids


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads the workers from /proc")
def test_a_killed_rank_fails_the_run_clearly_and_resume_completes_it(
    synthetic_files: tuple[Path, Path], tmp_path: Path
) -> None:
    train, dev = synthetic_files
    out = tmp_path / "model"
    command = torchrun("--train", str(train), "--dev", str(dev), "--out", str(out), "--epochs", "8", *TINY)
    launcher = subprocess.Popen(
        command, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 90
        while not (out / CHECKPOINT / "trainer_state.json").exists():
            assert launcher.poll() is None and time.monotonic() < deadline, "no checkpoint was saved"
            time.sleep(0.05)
        os.kill(worker_pids(launcher.pid)[1], signal.SIGKILL)
        _, stderr = launcher.communicate(timeout=60)  # failed within a bounded time, not hung
    finally:
        launcher.kill()
    assert launcher.returncode != 0
    assert "the distributed run stopped" in stderr and f"--resume {out}" in stderr, stderr[-3000:]
    saved = json.loads((out / CHECKPOINT / "trainer_state.json").read_text())
    assert 1 <= saved["epoch"] < 8

    resumed = launch(torchrun("--resume", str(out)))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert [h["epoch"] for h in metrics["history"]] == list(range(1, 9))
    Siamese.load(out)
