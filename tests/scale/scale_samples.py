"""Synthetic corpora for the scale tests: clustered unit vectors, as near-duplicate questions make."""

from pathlib import Path

import numpy as np
import pytest

from siamdup.scale.manifest import InputFile, Manifest, ModelReference, Reading, Shard
from siamdup.scale.store import EmbeddingStore, save_shard


def clustered_vectors(
    n: int, dim: int = 32, clusters: int = 2000, noise: float = 0.25, seed: int = 0, topics: int = 0
) -> np.ndarray:
    """`n` unit vectors around `clusters` random centres; members of a centre are near-duplicates. With
    `topics`, the centres themselves gather around that many topics, as questions on one subject do."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    if topics:
        topic = rng.standard_normal((topics, dim))
        centres = topic[rng.integers(0, topics, clusters)] + 0.5 * centres
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = centres[rng.integers(0, clusters, n)] + noise / np.sqrt(dim) * rng.standard_normal((n, dim))
    vectors = vectors.astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def store_of(vectors: np.ndarray, out: Path, shard_size: int = 4096) -> EmbeddingStore:
    """An embeddings folder holding `vectors` (ids "0", "1", ...), as `siamdup embed` writes one."""
    n, dim = vectors.shape
    manifest = Manifest(
        format="siamdup-embeddings",
        format_version=1,
        dim=dim,
        model=ModelReference(fingerprint="synthetic", path=None),
        inputs=[InputFile(path="synthetic", sha256="0" * 64, questions=n)],
        reading=Reading(format="auto", text_column="text", id_column=None),
        questions=n,
        shard_size=shard_size,
        shards=[],
    )
    for number, start in enumerate(range(0, n, shard_size)):
        rows = range(start, min(n, start + shard_size))
        manifest.shards.append(Shard(number=number, start=start, rows=len(rows)))
        save_shard(
            out, manifest, number, vectors[start : rows.stop], [str(i) for i in rows], [f"q{i}" for i in rows]
        )
    return EmbeddingStore.open(out)


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster of 2 CPUs for every Ray test (starting one takes seconds); skips without Ray."""
    pytest.importorskip("ray", reason='Ray is not installed (pip install "siamdup[ray]")')
    from siamdup.scale.ray_engine import ray_session

    with ray_session(2) as ray:
        yield ray
