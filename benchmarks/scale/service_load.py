"""Load test of `siamdup serve`: concurrent clients from a second process on 127.0.0.1.

Starts the service on a free port (with the given index, or an index of all dev questions built in a
temporary folder), then sends N POST /duplicates requests (k=10) from C concurrent clients, using dev
questions as queries. Prints throughput, latency p50/p99 and the number of errors (any non-200 answer
or failed connection).

    python -m benchmarks.scale.service_load --data ../shared/data/qqp --clients 8 --requests 10000
    python -m benchmarks.scale.service_load --index ~/.cache/siamdup-benchmarks/index-500000
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.machine import benchmark_parser, describe
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.index import DuplicateIndex


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(index: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "siamdup", "serve", "--index", str(index), "--port", str(port)]
    server = subprocess.Popen(command)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit("the service exited before answering")
        time.sleep(0.5)
    server.terminate()
    raise SystemExit("the service did not come up in 5 minutes")


async def load(url: str, questions: list[str], clients: int, requests: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    next_request = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal next_request, errors
        while next_request < requests:
            question = questions[next_request % len(questions)]
            next_request += 1
            start = time.perf_counter()
            try:
                response = await http.post(url + "/duplicates", json={"question": question, "k": 10})
                ok = response.status_code == 200 and len(response.json()["matches"]) == 10
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - start
    return latencies, errors, wall


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--index", type=Path, default=None, help="default: all dev questions, shipped model")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=10_000)
    args = parser.parse_args()
    print(describe())

    dev, _ = read_pairs(args.data / "dev.tsv")
    questions = [p.question1 for p in dev]
    with tempfile.TemporaryDirectory() as tmp:
        index_dir = args.index
        if index_dir is None:
            corpus = list(dict.fromkeys(q for p in dev for q in (p.question1, p.question2)))
            index = DuplicateIndex(Siamese.load())
            index.add([str(i) for i in range(len(corpus))], corpus)
            index_dir = index.save(Path(tmp) / "dev-index")
        port = free_port()
        server = start_service(index_dir, port)
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/health").json()
            print(f"service: {health['index']['questions']:,} questions ({health['index']['search']} search)")
            asyncio.run(load(f"http://127.0.0.1:{port}", questions, args.clients, 200))  # warm-up
            latencies, errors, wall = asyncio.run(
                load(f"http://127.0.0.1:{port}", questions, args.clients, args.requests)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
    ms = np.array(latencies) * 1e3
    print(
        f"\n{args.requests:,} POST /duplicates (k=10) from {args.clients} concurrent clients: "
        f"{args.requests / wall:,.0f} requests/s, latency p50 {np.percentile(ms, 50):.1f} ms, "
        f"p99 {np.percentile(ms, 99):.1f} ms, errors {errors}"
    )


if __name__ == "__main__":
    main()
