"""What the peer scripts share: reading the token ids siamdup wrote, timing, printing one JSON result.

The peers run in their own virtual environments, so this file imports nothing from siamdup.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("ids", help="the JSON file of token ids written by benchmarks.speed.train_encode")
    parser.add_argument("--steps", type=int, default=60, help="timed training steps")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (compilation, caches)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--d-model", type=int, default=128)
    return parser.parse_args()


def read_ids(path: str) -> dict:
    """{"vocab_size": V, "q1": [[ids]], "q2": [[ids]] (duplicate pairs), "encode": [[ids]]}."""
    with open(path) as f:
        return json.load(f)


def batches(q1: list, q2: list, batch_size: int, n: int) -> list[tuple[list, list]]:
    """The first n batches of pairs, in file order (the same batches for every implementation)."""
    out = []
    for b in range(n):
        start = (b * batch_size) % (len(q1) - batch_size)
        out.append((q1[start : start + batch_size], q2[start : start + batch_size]))
    return out


def median_ms(fn: Callable[[object], object], items: list) -> float:
    """Median milliseconds of fn(item) over the items, after a warm-up on the first 20."""
    for item in items[:20]:
        fn(item)
    times = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        times.append(time.perf_counter() - start)
    return 1000 * sorted(times)[len(times) // 2]


def best_seconds(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of a few runs of fn(): the least disturbed by whatever else the machine does."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM, which starts afresh at exec (ru_maxrss would carry the
    peak of the parent that started it)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def report(result: dict) -> None:
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))
