"""Where the work runs: in this process ("local") or on a Ray cluster ("ray", the `siamdup[ray]` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from siamdup.model.siamese import Siamese
from siamdup.scale.embed import Progress, ShardEncoder, local_encoder

ENGINES = ("local", "ray")


@contextmanager
def shard_encoder(
    engine: str, model: Siamese, workers: int, progress: Progress | None
) -> Iterator[ShardEncoder]:
    """An encoder of shards for `engine`; for "ray", a Ray session lives as long as the block."""
    if engine == "local":
        yield local_encoder(model, progress)
        return
    if engine != "ray":
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    from siamdup.scale.ray_engine import ray_encoder, ray_session

    with ray_session(workers):
        yield ray_encoder(model, workers, progress)
