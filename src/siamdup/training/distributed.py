"""Training over several processes started by torchrun: the process group, what every rank must agree on,
in-batch negatives gathered over the ranks, and a rank's failure turned into a clear error.

Every rank reads the same data, draws the same global batch of N·b pairs (same seed) and trains on its own
slice of b; DistributedDataParallel averages the gradients. Rank 0 alone evaluates, saves and keeps time;
what it decides is sent to the others, so every rank takes the same steps and stops at the same one.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.nn.functional import all_gather
from torch.nn.parallel import DistributedDataParallel

from siamdup.model.siamese import pick_device
from siamdup.training.checkpoints import CHECKPOINT, TRAINER_STATE

T = TypeVar("T")


class RankFailure(RuntimeError):
    """A distributed run stopped because one of its processes failed or stopped answering."""


def launched_rank() -> int:
    """This process's rank as torchrun set it (0 outside torchrun), known before the process group starts."""
    return int(os.environ.get("RANK", "0"))


@dataclass(frozen=True)
class Ranks:
    """The processes training together: how many, which one this is, and its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.active:
            dist.barrier()

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block before the others: it finishes an interrupted save they then read."""
        if not self.is_main:
            self.barrier()
        yield
        if self.is_main:
            self.barrier()

    def from_main(self, compute: Callable[[], T]) -> T:
        """`compute()` run on rank 0 only, its result sent to every rank."""
        if not self.active:
            return compute()
        box: list[Any] = [compute() if self.is_main else None]
        dist.broadcast_object_list(box, src=0, device=self.device)
        return box[0]

    def main_clock(self, start: float) -> float:
        """Seconds since `start` by rank 0's clock: every rank takes the same learning rate and stops at the
        same step when the time budget binds."""
        elapsed = torch.tensor([time.perf_counter() - start], dtype=torch.float64, device=self.device)
        if self.active:
            dist.broadcast(elapsed, src=0)
        return float(elapsed)

    def mean(self, value: float) -> float:
        """The mean of `value` over the ranks."""
        if not self.active:
            return value
        total = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(total)
        return float(total) / self.world_size

    def share(self, items: Sequence[T]) -> list[T]:
        """This rank's contiguous share of `items` (sizes differ by one at most)."""
        n = len(items)
        return list(items[n * self.rank // self.world_size : n * (self.rank + 1) // self.world_size])

    def seed(self, base: int) -> int:
        """Rank 0 keeps `base` (a one-process run is unchanged); the others draw far from it, so dropout differs
        per rank while every rank draws the same batches from its own seeded generator."""
        return base + self.rank * 2**48

    def wrap(self, encoder: nn.Module) -> nn.Module:
        """The encoder the training steps run through: under DistributedDataParallel, which averages the
        gradients over the ranks, when there are several."""
        if not self.active:
            return encoder
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(encoder, device_ids=ids)


class GatheredLoss(nn.Module):
    """A ranking loss scored against every rank's batch: each rank scores its own rows against the anchors,
    positives and extra negatives of all ranks (N·b − 1 in-batch negatives per row), as CLIP-style training
    does. The gather keeps the gradients: each rank's vectors get the gradient of every rank's rows.

    With the loss a mean over rows, the mean over the ranks (DistributedDataParallel's average) of these
    per-rank losses is the loss of the global batch, and so are its gradients.
    """

    def __init__(self, loss: nn.Module, ranks: Ranks) -> None:
        super().__init__()
        self.loss = loss
        self.ranks = ranks

    def forward(
        self, anchors: torch.Tensor, positives: torch.Tensor, negatives: torch.Tensor | None = None
    ) -> torch.Tensor:
        b = len(anchors)
        own = slice(self.ranks.rank * b, (self.ranks.rank + 1) * b)
        # every rank must run the same collectives: no negatives here is still a (0, d) part of the gather
        negatives = anchors[:0] if negatives is None else negatives
        return self.loss(gather(anchors), gather(positives), gather_uneven(negatives), rows=own)


def gather(vectors: torch.Tensor) -> torch.Tensor:
    """Every rank's `vectors` (the same shape on each), in rank order, with gradients."""
    return torch.cat(all_gather(vectors))


def gather_uneven(vectors: torch.Tensor) -> torch.Tensor:
    """Every rank's `vectors`, whose row counts differ, in rank order, with gradients."""
    count = torch.tensor([len(vectors)], device=vectors.device)
    counts = [torch.zeros_like(count) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, count)
    sizes = [int(c) for c in counts]
    if max(sizes) == 0:
        return vectors
    padding = vectors.new_zeros(max(sizes) - len(vectors), vectors.shape[1])
    parts = all_gather(torch.cat([vectors, padding]))
    return torch.cat([part[:size] for part, size in zip(parts, sizes, strict=True)])


@contextmanager
def joined(device: str | None, timeout_minutes: float, out: Path) -> Iterator[Ranks]:
    """The ranks of this launch: a process group started from torchrun's environment (gloo on CPUs, nccl on
    GPUs, one GPU per local rank) and closed at the end, or this process alone.

    A collective that fails (a rank died) or waits past `timeout_minutes` (a rank hangs) ends the run with a
    RankFailure that says how to continue from the last checkpoint in `out`.
    """
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 and not dist.is_initialized():
        yield Ranks(device=pick_device(device))
        return
    started = not dist.is_initialized()
    if started:
        chosen = rank_device(device, int(os.environ.get("LOCAL_RANK", "0")))
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        if chosen.type == "cuda":
            torch.cuda.set_device(chosen)
        dist.init_process_group(backend, timeout=timedelta(minutes=timeout_minutes))
    else:
        chosen = pick_device(device)
    ranks = Ranks(dist.get_rank(), dist.get_world_size(), chosen)
    on_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stopped_by_launcher) if on_main_thread else None
    try:
        yield ranks
        ranks.barrier()  # every rank has finished its collectives before any tears the group down
    except RankFailure:
        raise
    except RuntimeError as e:
        raise RankFailure(failure_message(ranks, e, out)) from e
    finally:
        if on_main_thread:
            signal.signal(signal.SIGTERM, previous)
        if started:
            dist.destroy_process_group()


def rank_device(device: str | None, local_rank: int) -> torch.device:
    """The device asked for; "cuda" without an index (or the default on a GPU machine) is this rank's GPU."""
    chosen = pick_device(device)
    if chosen.type == "cuda" and chosen.index is None:
        return torch.device("cuda", local_rank)
    return chosen


def stopped_by_launcher(signum: int, frame: object) -> None:
    # torchrun stops the other processes with SIGTERM when one fails: say so rather than vanish
    raise RuntimeError("stopped by its launcher (SIGTERM), as torchrun does when another process fails")


def failure_message(ranks: Ranks, error: BaseException, out: Path) -> str:
    cause = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
    if (out / CHECKPOINT / TRAINER_STATE).exists():
        then = f"Its last finished epoch is saved: run the same torchrun command with --resume {out} to continue it."
    else:
        then = "No epoch had finished: start it again."
    return (
        f"rank {ranks.rank} of {ranks.world_size}: the distributed run stopped ({cause}). A process of the run "
        f"failed or stopped answering; its own output says why. {then}"
    )
