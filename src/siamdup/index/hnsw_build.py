"""Building an HNSW graph in a process of its own, at a lower priority.

The graph of a large index takes minutes to build. Built on a low-priority thread of the serving process, it
shares the GIL with the query thread: each time the builder comes back from FAISS it must take the GIL, and
when the scheduler leaves the low-priority thread waiting while it holds it, every query waits with it (a
priority inversion). A separate process shares no GIL. `build_graph` writes the empty graph and the vectors
to a temporary folder and runs this file on them with the same Python; the worker lowers its own priority,
adds the vectors and writes the graph, which `build_graph` reads back.

The worker imports only FAISS and NumPy (it runs as a file, not through the `siamdup` package, so it does
not load torch), and it gives up when its parent dies, so a killed service leaves no build running.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import faiss
import numpy as np

CHUNK = 10_000  # vectors added between two looks at the parent
POLL_SECONDS = 0.1  # how often the waiting thread looks at the stop flag

__all__ = ["build_graph"]


def build_graph(
    empty: faiss.Index, vectors: np.ndarray, stop: threading.Event, threads: int, niceness: int
) -> tuple[faiss.Index, dict] | None:
    """`empty` with `vectors` added, built by a worker process `niceness` levels below this one with
    `threads` OpenMP threads, and what the worker reported of itself; None when `stop` was set first.
    Raises RuntimeError with the worker's error output when it fails."""
    with tempfile.TemporaryDirectory(prefix="siamdup-hnsw-") as tmp:
        folder = Path(tmp)
        faiss.write_index(empty, str(folder / "empty.faiss"))
        np.save(folder / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
        # Run as a file, so that the worker neither imports the siamdup package (and torch) nor puts this
        # folder on its import path.
        run_file = "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
        command = [sys.executable, "-c", run_file, __file__, str(folder), str(threads), str(niceness)]
        command.append(str(os.getpid()))
        worker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            while worker.poll() is None:
                if stop.wait(POLL_SECONDS):
                    return None
        finally:
            if worker.poll() is None:
                worker.kill()
            out, err = worker.communicate()
        if worker.returncode != 0:
            tail = err.decode("utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"the HNSW build process failed (exit {worker.returncode}): {tail}")
        report = json.loads(out.decode("utf-8").splitlines()[0])
        return faiss.read_index(str(folder / "graph.faiss")), report


def _work(folder: Path, threads: int, niceness: int, parent: int) -> int:
    if hasattr(os, "nice"):
        os.nice(niceness)
    faiss.omp_set_num_threads(threads)
    priority = os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else None
    print(json.dumps({"niceness": priority, "threads": faiss.omp_get_max_threads()}), flush=True)
    graph = faiss.read_index(str(folder / "empty.faiss"))
    vectors = np.load(folder / "vectors.npy", mmap_mode="r")
    for start in range(0, len(vectors), CHUNK):
        if os.getppid() != parent:  # the service is gone: nobody will read the graph
            return 3
        graph.add(np.ascontiguousarray(vectors[start : start + CHUNK]))
    faiss.write_index(graph, str(folder / "graph.partial"))
    os.replace(folder / "graph.partial", folder / "graph.faiss")
    return 0


if __name__ == "__main__":
    folder_arg, threads_arg, niceness_arg, parent_arg = sys.argv[-4:]
    sys.exit(_work(Path(folder_arg), int(threads_arg), int(niceness_arg), int(parent_arg)))
