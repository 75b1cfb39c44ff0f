"""The HTTP service as the scenarios use it: started on a free loopback port, fed by client threads that
remember every id the server acknowledged."""

from __future__ import annotations

import http.client
import json
import threading
import time
from pathlib import Path

from benchmarks.reliability.faults.materials import question
from benchmarks.reliability.faults.processes import Child, free_port, siamdup_command, start, wait_until

TOKEN = "fault-injection"
START_TIMEOUT = 120.0
CLIENTS = 3
PAUSE = 0.01  # seconds between two posts of a client, so the writers beside it get the CPU too
MAX_POSTS = 5000  # per client, so a burst ends even if nobody stops it


class Server:
    def __init__(self, index_dir: Path, log: Path) -> None:
        self.port = free_port()
        command = siamdup_command("serve", "--index", index_dir, "--port", self.port, "--token", TOKEN)
        self.child: Child = start(command, log)

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
            connection.request(method, path, None if body is None else json.dumps(body), headers)
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def ready(self) -> bool:
        """Waits until /health answers; False when the server exited or never answered."""

        def healthy() -> bool:
            if self.child.process.poll() is not None:
                return True
            try:
                return self.request("GET", "/health")[0] == 200
            except OSError:
                return False

        return wait_until(healthy, START_TIMEOUT, interval=0.1) and self.child.process.poll() is None


class Burst:
    """Client threads (3) posting 1-3 new questions at a time; `acknowledged` holds the ids of every 2xx."""

    def __init__(self, server: Server, prefix: str) -> None:
        self.server, self.prefix = server, prefix
        self.acknowledged: list[str] = []
        self.refused: list[str] = []  # answers other than 2xx, while the server was up
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._post, args=(c,), daemon=True) for c in range(CLIENTS)]

    def __enter__(self) -> Burst:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _post(self, client: int) -> None:
        for n in range(MAX_POSTS):
            if self._stop.is_set():
                return
            ids = [f"{self.prefix}-c{client}-{n}-{k}" for k in range(1 + n % 3)]
            body = {"questions": [{"id": qid, "text": question(qid)} for qid in ids]}
            try:
                status, answer = self.server.request("POST", "/index", body)
            except (OSError, http.client.HTTPException, ValueError):
                if self.server.child.process.poll() is not None:
                    return  # killed: whatever had no answer was never acknowledged
                time.sleep(0.01)
                continue
            with self._lock:
                if 200 <= status < 300 and answer.get("ids") == ids:
                    self.acknowledged.extend(ids)
                else:
                    self.refused.append(f"{status} {str(answer)[:200]}")
            time.sleep(PAUSE)
