"""The served index under growth: query latency during the exact->HNSW switch, restart after folding,
and the refusal of a 50 MB body.

Serves (`siamdup serve`, a second process on 127.0.0.1) an index of random unit vectors just under
EXACT_MAX questions, sends POST /duplicates (k=10, real dev questions, the real model) from 8 concurrent
clients, then adds a few real questions, which takes the index past EXACT_MAX: the HNSW graph is built
beside it while the queries go on (for --window seconds; the build then finishes alone). Prints query p50/p99 before and during the switch, the switch
duration, the shutdown (a final fold) and the restart time. Then the same for an index of 100,000
questions saved exact past the limit (its switch starts with the service), and finally the time and
reply size of a 50 MB POST and of a chunked one past the cap.

    PYTHONPATH=src python -m benchmarks.scale.service_switch [--quick]

--quick skips the 100,000-question part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.machine import describe
from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.index.duplicate_index import EXACT_MAX

TOKEN = "benchmark"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FALLBACK_QUESTIONS = [
    "How do I learn Python?",
    "What is the best way to lose weight?",
    "How can I improve my English?",
    "Why is the sky blue?",
    "How do I cook rice?",
    "What is the meaning of life?",
]


def questions(data: Path) -> list[str]:
    dev = data / "dev.tsv"
    if not dev.is_file():
        return FALLBACK_QUESTIONS
    from siamdup.data.readers import read_pairs

    pairs, _ = read_pairs(dev)
    return list(dict.fromkeys(q for p in pairs[:3000] for q in (p.question1, p.question2)))


def synthetic_index(model: Siamese, rows: int, folder: Path) -> Path:
    """`rows` random unit vectors, saved exact (the switch, if due, is left to the service)."""
    vectors = np.random.default_rng(0).standard_normal((rows, model.dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = DuplicateIndex(model)
    index.switch_in_background = True
    index.add(
        [f"s{i}" for i in range(rows)], [f"synthetic question {i}" for i in range(rows)], vectors=vectors
    )
    return index.save(folder)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, index: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "siamdup", "serve", "--index", str(index), "--port", str(self.port)]
        started = time.perf_counter()
        self.process = subprocess.Popen(command, env={**os.environ, "SIAMDUP_TOKEN": TOKEN})
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise SystemExit("the service exited before answering")
            time.sleep(0.05)
        self.start_seconds = time.perf_counter() - started
        self.start_cpu_seconds = cpu_seconds(self.process.pid)

    def health(self) -> dict:
        return httpx.get(self.url + "/health", timeout=30).json()

    def stop(self) -> float:
        """SIGINT (a graceful shutdown, which folds the journal); seconds until the process ended."""
        started = time.perf_counter()
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=300)
        return time.perf_counter() - started


def cpu_seconds(pid: int) -> float:
    """CPU time a process used so far (Linux; NaN elsewhere): on a busy machine, wall time overstates."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def query_load(
    url: str, texts: list[str], clients: int, stop: asyncio.Event
) -> list[tuple[float, float]]:
    """(start, latency) of every POST /duplicates sent until `stop`; errors raise."""
    timings: list[tuple[float, float]] = []

    async def client(http: httpx.AsyncClient, offset: int) -> None:
        n = offset
        while not stop.is_set():
            started = time.perf_counter()
            response = await http.post(url + "/duplicates", json={"question": texts[n % len(texts)], "k": 10})
            timings.append((started, time.perf_counter() - started))
            if response.status_code != 200:
                raise SystemExit(f"query answered {response.status_code}: {response.text[:200]}")
            n += clients

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=clients)) as http:
        await asyncio.gather(*(client(http, i) for i in range(clients)))
    return timings


async def switch_under_load(
    service: Service, texts: list[str], clients: int, add: list[str], window: float
) -> dict:
    """Queries before and during the switch (for at most `window` seconds of it); `add` (may be empty)
    is what takes the index past the limit."""
    stop = asyncio.Event()
    load = asyncio.create_task(query_load(service.url, texts, clients, stop))
    await asyncio.sleep(3)
    async with httpx.AsyncClient(timeout=60) as http:
        switch_started = time.perf_counter()
        if add:
            body = {"questions": [{"text": t} for t in add]}
            response = await http.post(service.url + "/index", json=body, headers=AUTH)
            assert response.status_code == 201, response.text
        add_seconds = time.perf_counter() - switch_started if add else 0.0
        switched = None
        while switched is None:
            index = (await http.get(service.url + "/health")).json()["index"]
            if index["search"] == "hnsw":
                switched = time.perf_counter()
            elif not index["switching_to_hnsw"]:
                stop.set()
                await load
                raise SystemExit(
                    f"no switch to HNSW started: the index holds {index['questions']:,} questions"
                )
            elif time.perf_counter() - switch_started > window:
                stop.set()
            await asyncio.sleep(0.25)
    stop.set()
    timings = await load
    before = [lat for t, lat in timings if t < switch_started]
    during = [lat for t, lat in timings if switch_started <= t < switched]
    return {"before": before, "during": during, "switch": switched - switch_started, "add": add_seconds}


def percentiles(latencies: list[float]) -> str:
    ms = np.array(latencies) * 1e3
    return f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms over {len(ms):,} queries"


def report_switch(name: str, result: dict) -> None:
    print(f"\n{name}")
    before = "before the switch" if result["add"] > 0 else "in the first 3 s (the build already running)"
    print(f"  queries {before}: {percentiles(result['before'])}")
    print(f"  queries during the switch: {percentiles(result['during'])}")
    print(
        f"  switch: {result['switch']:.1f} s from the start to HNSW search (the add answered in {result['add'] * 1e3:.0f} ms)"
    )


def restart(index: Path, service: Service, model: Siamese) -> None:
    print(f"  shutdown with the final fold: {service.stop():.1f} s")
    started = time.perf_counter()
    loaded = DuplicateIndex.load(index, model)
    print(
        f"  DuplicateIndex.load of the folded index: {time.perf_counter() - started:.2f} s "
        f"({loaded.search_kind}, {loaded.replayed} journal lines replayed)"
    )
    again = Service(index)
    health = again.health()["index"]
    print(
        f"  restart: answering after {again.start_seconds:.1f} s, {again.start_cpu_seconds:.1f} s of CPU "
        f"({health['questions']:,} questions, {health['search']} search, journalled {health['journalled']})"
    )
    again.stop()


def post_huge_body(port: int, chunked: bool, total: int = 50 * 2**20) -> tuple[float, int, int]:
    """Send a `total`-byte POST until the reply arrives: (seconds, reply bytes, body bytes sent)."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    head = f"POST /similarity HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    piece = b"[" * 65536
    if chunked:
        piece = b"%x\r\n%s\r\n" % (len(piece), piece)
    reply, sent = b"", 0
    with socket.create_connection(("127.0.0.1", port)) as s:
        started = time.perf_counter()
        s.sendall(head.encode())
        s.setblocking(False)
        while not _complete(reply):
            readable, writable, _ = select.select([s], [s] if sent < total else [], [], 10)
            if readable:
                data = s.recv(65536)
                if not data:
                    break
                reply += data
            elif writable:
                with contextlib.suppress(BlockingIOError):
                    sent += s.send(piece)
        return time.perf_counter() - started, len(reply), sent


def _complete(reply: bytes) -> bool:
    head, _, body = reply.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return False


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data/qqp"), help="the folder of dev.tsv (the queries)"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-question index")
    parser.add_argument(
        "--window",
        type=float,
        default=30,
        help="seconds of queries during a switch (the build then goes on alone)",
    )
    args = parser.parse_args()
    print(describe())
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    model = Siamese.load()
    texts = questions(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        small = synthetic_index(model, EXACT_MAX - 10, Path(tmp) / "at-the-limit")
        service = Service(small)
        result = asyncio.run(switch_under_load(service, texts, args.clients, texts[-20:], args.window))
        report_switch(
            f"POST /index taking {EXACT_MAX - 10:,} questions past {EXACT_MAX:,} ({args.clients} clients)",
            result,
        )
        restart(small, service, model)

        if not args.quick:
            large = synthetic_index(model, 100_000, Path(tmp) / "large")
            service = Service(large)
            result = asyncio.run(switch_under_load(service, texts, args.clients, [], args.window))
            report_switch(
                f"100,000 questions saved exact, switched by the service ({args.clients} clients)", result
            )
            restart(large, service, model)

        service = Service(small)
        print("\nbodies over the 256 KiB cap (5 tries each, the slowest shown)")
        for chunked in (False, True):
            tries = [post_huge_body(service.port, chunked) for _ in range(5)]
            seconds, size, sent = max(tries)
            kind = "chunked" if chunked else "50 MB, Content-Length"
            print(
                f"  {kind}: 413 in {seconds * 1e3:.1f} ms, reply {size} bytes, {sent:,} body bytes sent by then"
            )
        service.stop()


if __name__ == "__main__":
    main()
