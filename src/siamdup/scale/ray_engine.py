"""The Ray engine: shards encoded and partitions searched on a Ray cluster's workers.

Ray is an optional extra (`pip install "siamdup[ray]"`). `ray_session` joins the cluster a driver is
already connected to, or starts a local one with the given number of worker CPUs. Workers load the model
from its folder and check its fingerprint, so every worker makes exactly the driver's vectors.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import numpy as np

from siamdup.model.siamese import Siamese
from siamdup.scale.embed import Progress, ShardEncoder

RAY_EXTRA = 'pip install "siamdup[ray]"'


class MissingExtraError(RuntimeError):
    """An optional dependency that is not installed; the message names the extra to install."""


def require_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise MissingExtraError(f"the Ray engine needs Ray, which is not installed: {RAY_EXTRA}") from None
    return ray


@contextmanager
def ray_session(workers: int) -> Iterator[ModuleType]:
    """Ray, initialised for the block: a local cluster of `workers` CPUs unless one is already running."""
    ray = require_ray()
    started = not ray.is_initialized()
    if started:
        # Workers import siamdup from where this process does, also when it runs from a source checkout.
        paths = os.pathsep.join(p for p in sys.path if p)
        ray.init(
            num_cpus=workers,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
            runtime_env={"env_vars": {"PYTHONPATH": paths, "OMP_NUM_THREADS": "1"}},
        )
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


@functools.lru_cache(maxsize=2)
def _worker_model(path: str | None, fingerprint: str) -> Siamese:
    import torch

    torch.set_num_threads(1)  # one Ray CPU per task
    model = Siamese.load(path)
    if model.fingerprint() != fingerprint:
        raise RuntimeError(f"the model at {path or 'the shipped default'} changed since the driver loaded it")
    return model


def encode_shard(path: str | None, fingerprint: str, texts: list[str]) -> np.ndarray:
    """A Ray task: one shard's vectors."""
    return _worker_model(path, fingerprint).encode(texts)


def ray_encoder(model: Siamese, workers: int, progress: Progress | None = None) -> ShardEncoder:
    """Encode shards as Ray tasks, at most two per worker in flight; yields each as it finishes."""
    ray = require_ray()
    task = ray.remote(num_cpus=1)(encode_shard)
    path = None if model.path is None else str(model.path)
    fingerprint = model.fingerprint()

    def encode(jobs: list[tuple[int, list[str]]]) -> Iterator[tuple[int, np.ndarray]]:
        queue = list(jobs)
        pending: dict = {}
        while queue or pending:
            while queue and len(pending) < 2 * workers:
                number, texts = queue.pop(0)
                pending[task.remote(path, fingerprint, texts)] = number
            ready, _ = ray.wait(list(pending), num_returns=1)
            number = pending.pop(ready[0])
            vectors = ray.get(ready[0])
            if progress:
                progress(len(vectors))
            yield number, vectors

    return encode


def ray_runner(directory: str, tasks: list, members: list[np.ndarray], k: int, tau: float) -> Iterator:
    """Search each partition as a Ray task (see `partitioned.search_partition`); yields links as they come.

    The workers read the vectors from the embeddings folder, which must be readable where they run (the
    same machine, or a shared filesystem).
    """
    from siamdup.scale.partitioned import search_partition

    ray = require_ray()
    task = ray.remote(num_cpus=1)(search_partition)
    members_ref = ray.put(members)
    pending = [task.remote(directory, t, members_ref, k, tau) for t in tasks]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])
