"""Embeddings folders for the scale benchmarks: the corpus embedded once with `siamdup embed` (resumable),
and a folder holding the first shards of another (hard links, no copy) for a smaller corpus."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from siamdup.scale import EmbeddingStore
from siamdup.scale.manifest import shard_files
from siamdup.scale.store import MANIFEST, read_manifest
from siamdup.storage import CHECKSUMS
from siamdup.storage.checksums import format_checksums, parse_checksums

SHARD_SIZE = 100_000


def embedded(corpus: Path, out: Path, engine: str = "ray", workers: int = 2) -> EmbeddingStore:
    """`siamdup embed` of a benchmark corpus (id,source,text CSV), run as a user would; resumes a killed run."""
    command = [
        "siamdup", "embed", "--input", str(corpus), "--id-column", "id", "--out", str(out),
        "--shard-size", str(SHARD_SIZE), "--engine", engine, "--workers", str(workers),
    ]  # fmt: skip
    print("$ " + " ".join(command))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "siamdup", *command[1:]], check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"embed: {time.perf_counter() - start:.1f}s this run, peak memory of the command {peak:,.0f} MB")
    return EmbeddingStore.open(out)


def first_shards(directory: Path, questions: int, out: Path) -> EmbeddingStore:
    """An embeddings folder of the first `questions` rows of `directory`, which may still be unfinished."""
    manifest = read_manifest(directory)
    shards = [s for s in manifest.shards if s.start + s.rows <= questions]
    if sum(s.rows for s in shards) != questions:
        raise FileNotFoundError(f"{directory}: its first {questions:,} questions are not embedded yet")
    if not (out / MANIFEST).is_file():
        out.mkdir(parents=True, exist_ok=True)
        digests = parse_checksums((directory / CHECKSUMS).read_text(), directory / CHECKSUMS)
        names = [n for s in shards for n in shard_files(s.number)]
        for name in names:
            if not (out / name).exists():
                os.link(directory / name, out / name)
        (out / CHECKSUMS).write_text(format_checksums({n: digests[n] for n in names}))
        subset = manifest.model_copy(update={"questions": questions, "shards": shards})
        (out / MANIFEST).write_text(subset.model_dump_json(indent=2) + "\n")
    return EmbeddingStore.open(out)
