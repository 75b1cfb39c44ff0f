"""Concurrent `POST /duplicates` clients for the service benchmarks, closed or open loop, and the latency
summary of a phase.

Closed loop: each client sends its next query when the previous one is answered (after `think` seconds),
so the offered load adapts to the service and, once it is saturated, latency is the queue: about
clients / throughput. Open loop: each client sends `rate` queries a second on a fixed schedule whatever
the answers, and a latency counts from the moment its query was due, so a service that falls behind is
charged for the wait too.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass

import httpx
import numpy as np

Timing = tuple[float, float]  # (when the query was sent or due, seconds until its answer)


@dataclass(frozen=True)
class Load:
    clients: int = 8
    think: float = 0.0  # closed loop: seconds a client waits between an answer and its next query
    rate: float | None = None  # open loop: queries a second from each client (then `think` is unused)

    def describe(self) -> str:
        if self.rate is None:
            return f"closed loop, {self.clients} clients, think time {self.think * 1e3:.0f} ms"
        offered = self.clients * self.rate
        return f"open loop, {self.clients} clients x {self.rate:g} q/s = {offered:g} q/s offered"


async def query_load(url: str, texts: list[str], load: Load, stop: asyncio.Event) -> list[Timing]:
    """Timings of every POST /duplicates sent until `stop`; an error reply raises."""
    # The clients share a process with the model and the test data; out of the collector's sight, a full
    # collection of them no longer pauses the clients and shows as service latency.
    gc.collect()
    gc.freeze()
    timings: list[Timing] = []

    async def ask(http: httpx.AsyncClient, text: str, since: float) -> None:
        response = await http.post(url + "/duplicates", json={"question": text, "k": 10})
        timings.append((since, time.perf_counter() - since))
        if response.status_code != 200:
            raise SystemExit(f"query answered {response.status_code}: {response.text[:200]}")

    async def closed(http: httpx.AsyncClient, offset: int) -> None:
        n = offset
        while not stop.is_set():
            await ask(http, texts[n % len(texts)], time.perf_counter())
            n += load.clients
            if load.think:
                await asyncio.sleep(load.think)

    async def opened(http: httpx.AsyncClient, offset: int) -> None:
        assert load.rate is not None
        n, due, sent = offset, time.perf_counter() + offset / (load.clients * load.rate), []
        while not stop.is_set():
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            sent.append(asyncio.create_task(ask(http, texts[n % len(texts)], due)))
            n, due = n + load.clients, due + 1 / load.rate
        await asyncio.gather(*sent)

    client = closed if load.rate is None else opened
    limits = httpx.Limits(max_connections=None if load.rate else load.clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(http, i) for i in range(load.clients)))
    return timings


def phase(timings: list[Timing], start: float, end: float) -> dict:
    """p50/p95/p99 (ms) and throughput (answers a second) of the queries sent in [start, end)."""
    latencies = np.array([lat for sent, lat in timings if start <= sent < end]) * 1e3
    if len(latencies) == 0:
        return {"queries": 0, "seconds": end - start}
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99])
    return {
        "queries": len(latencies),
        "seconds": end - start,
        "per_second": len(latencies) / (end - start),
        "p50": p50,
        "p95": p95,
        "p99": p99,
    }


def format_phase(stats: dict) -> str:
    if stats["queries"] == 0:
        return f"no queries in {stats['seconds']:.1f} s"
    return (
        f"p50 {stats['p50']:.1f} ms, p95 {stats['p95']:.1f} ms, p99 {stats['p99']:.1f} ms; "
        f"{stats['per_second']:.1f} q/s ({stats['queries']:,} queries in {stats['seconds']:.1f} s)"
    )
