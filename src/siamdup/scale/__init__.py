"""Scaling past one process: corpora embedded in shards on disk (`embed`), compressed candidate search for
dedupe (`compressed`), leakage checks between two sets (`against`), corpora partitioned into cells
(`partition`), and the same work spread over a Ray cluster (`ray_engine`, the `siamdup[ray]` extra)."""

from siamdup.scale.embed import DEFAULT_SHARD_SIZE, Corpus, EmbedReport, embed_corpus, read_corpus
from siamdup.scale.store import EmbeddingsError, EmbeddingStore

__all__ = [
    "DEFAULT_SHARD_SIZE",
    "Corpus",
    "EmbedReport",
    "EmbeddingStore",
    "EmbeddingsError",
    "embed_corpus",
    "read_corpus",
]
