"""The served index under growth: query latency during the exact->HNSW switch, restart after folding,
and the refusal of a 50 MB body.

Serves (`siamdup serve`, a second process on 127.0.0.1) an index of random unit vectors just under
EXACT_MAX questions and sends POST /duplicates (k=10, real dev questions, the real model) from --clients
concurrent clients in this process, on the same machine: closed loop (each client sends its next query
when the previous one is answered, after --think seconds), and with --rate also open loop (each client
sends --rate queries a second on schedule; latency counts from the due time). After --settle seconds a
few real questions are added, which takes the index past EXACT_MAX: the HNSW graph is built beside it
while the queries go on (for --window seconds; the build then finishes alone), then --settle more
seconds of queries once HNSW answers. Prints p50/p95/p99 and answers a second before, during and after
the switch, the service's CPU time a query, the switch duration, the shutdown (a final fold) and the
restart time. Then the same for an index of 100,000 questions saved exact past the limit (its switch
starts with the service), and finally the time and reply size of a 50 MB POST and of a chunked one past
the cap. The machine and its load average are printed first: on a shared machine they decide the
figures.

    PYTHONPATH=src python -m benchmarks.scale.service_switch [--quick] [--rate 2] [--csv FILE]

--quick skips the 100,000-question part.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import os
import select
import shutil
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
from benchmarks.scale.query_clients import Load, format_phase, phase, query_load
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
        self.index = index
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
        """GET /health."""
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


async def steady_load(service: Service, texts: list[str], load: Load, seconds: float) -> dict:
    """Latency and throughput of `seconds` of queries, with the service's CPU time a query."""
    stop = asyncio.Event()
    running = asyncio.create_task(query_load(service.url, texts, load, stop))
    started, cpu_started = time.perf_counter(), cpu_seconds(service.process.pid)
    clients_cpu = time.process_time()
    await asyncio.sleep(seconds)
    stop.set()
    stats = phase(await running, started, started + seconds)
    answered = max(1, stats["queries"])
    stats["cpu_ms"] = (cpu_seconds(service.process.pid) - cpu_started) / answered * 1e3
    stats["client_cpu_ms"] = (time.process_time() - clients_cpu) / answered * 1e3
    return stats


async def switch_under_load(
    service: Service, texts: list[str], load: Load, add: list[str], window: float, settle: float
) -> dict:
    """Queries for `settle` seconds, then during the switch (for at most `window` seconds of it), then
    for `settle` seconds once HNSW answers; `add` (may be empty) is what takes the index past the limit."""
    stop = asyncio.Event()
    running = asyncio.create_task(query_load(service.url, texts, load, stop))
    started, cpu_started = time.perf_counter(), cpu_seconds(service.process.pid)
    await asyncio.sleep(settle)
    async with httpx.AsyncClient(timeout=60) as http:
        switch_started, cpu_before = time.perf_counter(), cpu_seconds(service.process.pid)
        queries_before = (await http.get(service.url + "/health")).json()["queries"]
        if add:
            body = {"questions": [{"text": t} for t in add]}
            response = await http.post(service.url + "/index", json=body, headers=AUTH)
            assert response.status_code == 201, response.text
        add_seconds = time.perf_counter() - switch_started if add else 0.0
        switched = window_end = None
        while switched is None:
            index = (await http.get(service.url + "/health")).json()["index"]
            now = time.perf_counter()
            if index["search"] == "hnsw":
                switched = now
            elif not index["switching_to_hnsw"]:
                stop.set()
                await running
                raise SystemExit(
                    f"no switch to HNSW started: the index holds {index['questions']:,} questions"
                )
            elif window_end is None and now - switch_started > window:
                window_end = now  # the build goes on alone
                stop.set()
            await asyncio.sleep(0.25)
    stop.set()
    timings = await running
    before = phase(timings, started, switch_started)
    before["cpu_ms"] = (cpu_before - cpu_started) / max(1, before["queries"]) * 1e3
    during = phase(timings, switch_started, window_end or switched)

    return {
        "before": before,
        "during": during,
        "after": await steady_load(service, texts, load, settle),
        "switch": switched - switch_started,
        "add": add_seconds,
        "cut": window_end is not None,
        "queries": service.health().get("queries"),
        "queries_before": queries_before,
    }


def report_switch(name: str, load: Load, result: dict) -> list[dict]:
    """Print the result; its rows for the CSV."""
    print(f"\n{name}; {load.describe()}")
    before = "before the switch" if result["add"] > 0 else "first seconds (the build already running)"
    during = "during the switch" + (" (its first part: the window)" if result["cut"] else "")
    for key, label in (("before", before), ("during", during), ("after", "after, HNSW search")):
        cpu = f"; service CPU {result[key]['cpu_ms']:.1f} ms a query" if "cpu_ms" in result[key] else ""
        print(f"  {label}: {format_phase(result[key])}{cpu}")
    batches = result["queries"] or {}
    if batches.get("batches"):
        print(
            f"  queries answered {batches['answered'] / batches['batches']:.2f} to an encoder pass on average"
        )
    slowest = [(result["queries_before"] or {}).get("longest_pass_ms"), batches.get("longest_pass_ms")]
    if None not in slowest:
        print(
            "  slowest encoder pass + search inside the service: "
            f"{slowest[0]:.1f} ms {before.split(' (')[0]}, {slowest[1]:.1f} ms over the whole run"
        )
    print(
        f"  switch: {result['switch']:.1f} s from the start to HNSW search (the add answered in {result['add'] * 1e3:.0f} ms)"
    )
    return [{"index": name, "load": load.describe(), "phase": key, **result[key]} for key in PHASES]


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


PHASES = ("before", "during", "after")
CSV_FIELDS = (
    "index",
    "load",
    "phase",
    "queries",
    "seconds",
    "per_second",
    "p50",
    "p95",
    "p99",
    "cpu_ms",
    "client_cpu_ms",
)


def run_switch(
    folder: Path, name: str, texts: list[str], load: Load, add: list[str], args: argparse.Namespace
) -> tuple[list[dict], Service]:
    """A service on a copy of `folder`, switched under `load`; its rows and the (running) service."""
    copy = folder.with_name(f"{folder.name}-{len(list(folder.parent.iterdir()))}")
    shutil.copytree(folder, copy)
    service = Service(copy)
    result = asyncio.run(switch_under_load(service, texts, load, add, args.window, args.settle))
    return report_switch(name, load, result), service


def switches(
    folder: Path,
    name: str,
    texts: list[str],
    loads: list[Load],
    add: list[str],
    args: argparse.Namespace,
    model: Siamese,
) -> list[dict]:
    """A switch under each load, each on a fresh copy of `folder`; the restart after the first."""
    rows: list[dict] = []
    for n, load in enumerate(loads):
        found, service = run_switch(folder, name, texts, load, add, args)
        rows += found
        if n == 0:
            restart(service.index, service, model)
        else:
            service.stop()
    return rows


def report_body_cap(index: Path) -> None:
    service = Service(index)
    print("\nbodies over the 256 KiB cap (5 tries each, the slowest shown)")
    for chunked in (False, True):
        tries = [post_huge_body(service.port, chunked) for _ in range(5)]
        seconds, size, sent = max(tries)
        kind = "chunked" if chunked else "50 MB, Content-Length"
        print(
            f"  {kind}: 413 in {seconds * 1e3:.1f} ms, reply {size} bytes, {sent:,} body bytes sent by then"
        )
    service.stop()


def steady_only(folder: Path, texts: list[str], args: argparse.Namespace) -> list[dict]:
    """1 and --clients closed-loop clients against the index at the limit, with no switch."""
    service, rows = Service(folder), []
    for clients in (1, args.clients):
        load = Load(clients, think=args.think)
        stats = asyncio.run(steady_load(service, texts, load, args.settle))
        print(f"\n{EXACT_MAX - 10:,} questions, exact search; {load.describe()}")
        print(
            f"  {format_phase(stats)}; CPU a query: service {stats['cpu_ms']:.1f} ms, "
            f"clients {stats['client_cpu_ms']:.1f} ms"
        )
        rows.append(
            {"index": f"{EXACT_MAX - 10:,} exact", "load": load.describe(), "phase": "steady", **stats}
        )
    service.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data/qqp"), help="the folder of dev.tsv (the queries)"
    )
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--think", type=float, default=0.0, help="closed loop: seconds between an answer and the next query"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=None,
        help="also run open loop: queries a second from each client, sent on schedule",
    )
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-question index")
    parser.add_argument(
        "--window",
        type=float,
        default=30,
        help="seconds of queries during a switch (the build then goes on alone)",
    )
    parser.add_argument(
        "--settle", type=float, default=5, help="seconds of queries before and after a switch"
    )
    parser.add_argument("--csv", type=Path, help="also write the latency of each phase here")
    parser.add_argument(
        "--steady",
        action="store_true",
        help="only the index at the limit, searched exactly: --settle seconds with 1 client, then --clients",
    )
    args = parser.parse_args()
    print(describe())
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    model = Siamese.load()
    texts = questions(args.data)
    loads = [Load(args.clients, think=args.think)]
    if args.rate is not None:
        loads.append(Load(args.clients, rate=args.rate))
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        small = synthetic_index(model, EXACT_MAX - 10, Path(tmp) / "at-the-limit")
        if args.steady:
            rows = steady_only(small, texts, args)
            loads = []
        name = f"{EXACT_MAX - 10:,} questions, a POST /index takes them past {EXACT_MAX:,}"
        rows += switches(small, name, texts, loads, texts[-20:], args, model)
        if not args.quick and not args.steady:
            large = synthetic_index(model, 100_000, Path(tmp) / "large")
            name = "100,000 questions saved exact, switched by the service at start-up"
            rows += switches(large, name, texts, loads, [], args, model)

        report_body_cap(small)
    print("\nload average at the end (1, 5, 15 min): " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    if args.csv:
        write_csv(args.csv, rows)


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.2f}" if isinstance(v, float) else v for k, v in row.items()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
