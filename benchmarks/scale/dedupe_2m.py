"""`dedupe` of 2,000,000 questions in one process with compressed vectors: time per phase, peak memory,
recall@10 of the candidate search against exact search, bytes per question.

The corpus is the 500,000 real texts of corpus.py and three rewordings of each (augmented.py), embedded
once with `siamdup embed` (resumable; its time is printed when this run does the encoding). The dedupe
then runs as `siamdup dedupe --input EMBEDDINGS --compress pq` runs it, in this process, so its peak
memory is this process's (read before the recall checks, which run after it).

    python -m benchmarks.scale.dedupe_2m --data ../shared/data/qqp
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.machine import describe
from benchmarks.scale.augmented import build_augmented
from benchmarks.scale.corpus import corpus_parser
from benchmarks.scale.stores import embedded
from siamdup import Siamese
from siamdup.scale import EmbeddingStore
from siamdup.scale.compressed import NPROBE, CompressedSettings, add_store, reranked_search, train_index
from siamdup.scale.dedupe import dedupe_store
from siamdup.scale.manifest import Shard
from siamdup.scale.store import save_shard

K = 10


def exact_top_k(store: EmbeddingStore, queries: np.ndarray, k: int) -> np.ndarray:
    """Each query's k nearest rows of the whole store, by brute force, shard by shard."""
    heap = faiss.ResultHeap(len(queries), k, keep_max=True)
    for start, vectors in store.chunks():
        index = faiss.IndexFlatIP(store.dim)
        index.add(vectors)
        scores, rows = index.search(queries, k)
        heap.add_result(scores, np.where(rows >= 0, rows + start, -1))
    heap.finalize()
    return heap.I


def recall(found: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)]))


def sample_store(store: EmbeddingStore, size: int, out: Path) -> EmbeddingStore:
    """An embeddings folder of `size` rows of `store` drawn at random (one shard)."""
    vectors = store.sample(size, seed=1)
    manifest = store.manifest.model_copy(
        update={"questions": size, "shard_size": size, "shards": [Shard(number=0, start=0, rows=size)]}
    )
    ids = [str(i) for i in range(size)]
    save_shard(out, manifest, 0, vectors, ids, ids)
    return EmbeddingStore.open(out)


def main() -> None:
    parser = corpus_parser(__doc__)
    parser.set_defaults(size=2_000_000)
    parser.add_argument("--compress", default="pq", choices=("pq", "sq8"))
    parser.add_argument("--nprobe", type=int, default=NPROBE, help="cells each question scans")
    parser.add_argument("--queries", type=int, default=1000, help="queries checked against exact search")
    parser.add_argument("--sample", type=int, default=100_000, help="the sample for the second recall check")
    parser.add_argument("--sample-queries", type=int, default=20_000, help="queries of the sample checked")
    parser.add_argument(
        "--embeddings", type=Path, help="an embeddings folder to dedupe instead of the corpus"
    )
    parser.add_argument("--threads", type=int, help="FAISS threads (default: FAISS's own choice)")
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    print(describe() + f"; FAISS {faiss.omp_get_max_threads()} threads")
    if args.embeddings:
        store = EmbeddingStore.open(args.embeddings)
    else:
        corpus = build_augmented(args.data, args.size, args.cache)
        store = embedded(corpus, args.cache / f"embeddings-{args.size}")
    tau = Siamese.load(store.manifest.model.path).threshold
    settings = CompressedSettings(compression=args.compress, nprobe=args.nprobe)
    print(
        f"{len(store):,} questions; {settings.factory(store.dim, len(store))}, nprobe {args.nprobe}, "
        f"{settings.fetch * (K + 1)} candidates per question ranked by exact cosine; τ = {tau:.3f}"
    )

    cpu_start = time.process_time()
    start = time.perf_counter()
    ids, texts = store.entries()
    read = time.perf_counter() - start
    found = dedupe_store(store, tau, k=K, settings=settings, keep_index=True)
    start = time.perf_counter()
    out = args.cache / f"groups-{len(store)}.csv"
    found.result.write_csv(out, ids, texts)
    written = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time() - cpu_start
    r = found.result
    phases = {"read ids and texts": read, **found.seconds, "write CSV": written}
    print("\nphase            seconds")
    for name, seconds in phases.items():
        print(f"  {name:<18} {seconds:8.1f}")
    print(f"  {'total':<18} {sum(phases.values()):8.1f}")
    print(f"CPU time of the dedupe (all threads): {cpu:.1f}s")
    print(
        f"peak memory (RSS) {peak:,.0f} MB; index {found.bytes_per_question:.1f} bytes/question "
        f"(float32 vectors: {4 * store.dim})"
    )
    print(
        f"{len(r.groups):,} groups holding {r.n_grouped:,} of {r.n_questions:,} questions, {r.n_links:,} links"
    )

    rows = np.sort(np.random.default_rng(0).choice(len(store), args.queries, replace=False))
    queries = store.gather(rows)
    search = reranked_search(found.index, store, settings)
    _, candidates = search(queries, K)
    print(
        f"recall@10 on the {len(store):,}-question index, {args.queries:,} queries: "
        f"{recall(candidates, exact_top_k(store, queries, K)):.4f}"
    )
    del found
    with tempfile.TemporaryDirectory() as folder:
        sample = sample_store(store, args.sample, Path(folder))
        index = train_index(sample, settings)
        add_store(index, sample)
        queries = np.array(sample.shard_vectors(0)[: args.sample_queries])
        _, candidates = reranked_search(index, sample, settings)(queries, K)
        print(
            f"recall@10 on a {args.sample:,}-question sample ({settings.factory(sample.dim, args.sample)}), "
            f"{len(queries):,} of its questions as queries: "
            f"{recall(candidates, exact_top_k(sample, queries, K)):.4f}"
        )


if __name__ == "__main__":
    main()
