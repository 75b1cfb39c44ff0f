"""The index at scale: 500,000 real questions (see corpus.py beside it), HNSW against exact search.

Prints build time (encoding and HNSW separately), size on disk, single-query latency through the Python
API (`DuplicateIndex.query`: encode + search) and recall@10 of HNSW against exact search, for a few
query-time beam widths (efSearch). The queries are 1,000 real QQP questions held out of the index.

    python -m benchmarks.scale.index_scale --data ../shared/data/qqp
"""

from __future__ import annotations

import random
import resource
import shutil
import time
from pathlib import Path

import faiss
import numpy as np

from benchmarks.machine import describe
from benchmarks.scale.corpus import build_corpus, corpus_parser, read_corpus
from siamdup import Siamese
from siamdup.index import DuplicateIndex, HNSWSettings
from siamdup.index.duplicate_index import encode


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def main() -> None:
    parser = corpus_parser(__doc__)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--ef-search", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--m", type=int, default=HNSWSettings.m, help="HNSW links per node")
    parser.add_argument("--ef-construction", type=int, default=HNSWSettings.ef_construction)
    args = parser.parse_args()

    print(describe())
    model = Siamese.load(args.model)
    ids, texts, sources = read_corpus(build_corpus(args.data, args.size + args.queries, args.cache))
    qqp_rows = [i for i, _ in enumerate(texts) if i < sources["qqp"]]
    held_out = set(random.Random(0).sample(qqp_rows, args.queries))
    queries = [texts[i] for i in sorted(held_out)]
    keep = [i for i in range(len(texts)) if i not in held_out]
    ids, texts = [ids[i] for i in keep], [texts[i] for i in keep]
    print(f"index: {len(texts):,} questions; queries: {len(queries):,} QQP questions held out of it")

    start = time.perf_counter()
    vectors = encode(model, texts)
    encode_s = time.perf_counter() - start
    print(f"encode: {encode_s:.1f}s ({len(texts) / encode_s:,.0f} questions/s)")

    settings = HNSWSettings(m=args.m, ef_construction=args.ef_construction)
    index = DuplicateIndex(model, kind="hnsw", hnsw=settings)
    start = time.perf_counter()
    index.add(ids, texts, vectors=vectors)
    hnsw_s = time.perf_counter() - start
    print(f"HNSW build (M={settings.m}, efConstruction={settings.ef_construction}): {hnsw_s:.1f}s")
    out = args.cache / f"index-{args.size}"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    index.save(out)
    save_s = time.perf_counter() - start
    disk_mb = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    print(f"saved in {save_s:.1f}s: {disk_mb:,.0f} MB on disk ({out})")
    start = time.perf_counter()
    index = DuplicateIndex.load(out, model)
    print(f"loaded in {time.perf_counter() - start:.1f}s")

    exact = faiss.IndexFlatIP(model.dim)
    exact.add(vectors)
    query_vectors = model.encode(queries)
    _, truth = exact.search(query_vectors, 10)

    for q in queries[:50]:  # warm-up
        index.query(q, k=10)
    print("\n| efSearch | recall@10 vs exact | query p50 (ms) | query p99 (ms) | search only p50 (ms) |")
    print("|---:|---:|---:|---:|---:|")
    for ef in args.ef_search:
        index._faiss.hnsw.efSearch = ef
        _, found = index.search(query_vectors, 10)
        recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
        full, search_only = [], []
        for q, v in zip(queries, query_vectors, strict=True):
            t0 = time.perf_counter()
            index.query(q, k=10)
            t1 = time.perf_counter()
            index.search(v[None], 10)
            search_only.append(time.perf_counter() - t1)
            full.append(t1 - t0)
        (p50, p99), (s50, _) = percentiles(full), percentiles(search_only)
        default = " (default)" if ef == settings.ef_search else ""
        print(f"| {ef}{default} | {recall:.4f} | {p50:.2f} | {p99:.2f} | {s50:.3f} |")

    exact_times = []
    for v in query_vectors[:200]:
        t0 = time.perf_counter()
        exact.search(v[None], 10)
        exact_times.append(time.perf_counter() - t0)
    print(f"\nexact search alone over {len(texts):,}: p50 {percentiles(exact_times)[0]:.2f} ms")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
