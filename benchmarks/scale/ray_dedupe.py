"""Partitioned dedupe of the 500,000 real questions: one process against Ray with 2 local workers.

Both search the same k-means cells with the same rule (each question's `nprobe` nearest cells, skipping
cells that cannot hold a link), so their groups must be identical; prints the time of each, and checks.

    python -m benchmarks.scale.ray_dedupe --data ../shared/data/qqp
"""

from __future__ import annotations

import time

from benchmarks.machine import describe
from benchmarks.scale.augmented import build_augmented
from benchmarks.scale.corpus import corpus_parser
from benchmarks.scale.stores import embedded, first_shards
from siamdup import Siamese
from siamdup.scale.partition import partition
from siamdup.scale.partitioned import partitioned_dedupe, run_locally
from siamdup.scale.ray_engine import ray_runner, ray_session


def main() -> None:
    parser = corpus_parser(__doc__)
    parser.add_argument("--cells", type=int, default=1024, help="k-means cells (partitions)")
    parser.add_argument("--nprobe", type=int, default=8, help="cells each question searches")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers (CPUs of the local cluster)")
    args = parser.parse_args()
    print(describe())
    # The 2,000,000-question corpus starts with the 500,000 real texts: its first shards are them.
    full = args.cache / "embeddings-2000000"
    try:
        store = first_shards(full, args.size, args.cache / f"embeddings-{args.size}")
    except FileNotFoundError:
        embedded(build_augmented(args.data, 2_000_000, args.cache), full)
        store = first_shards(full, args.size, args.cache / f"embeddings-{args.size}")
    tau = Siamese.load(store.manifest.model.path).threshold
    start = time.perf_counter()
    parts = partition(store, args.cells)
    print(
        f"{len(store):,} questions, {args.cells} cells (k-means + assignment {time.perf_counter() - start:.1f}s), "
        f"nprobe {args.nprobe}, τ = {tau:.3f}"
    )
    results, seconds = {}, {}
    for name in ("one process", f"Ray, {args.workers} workers"):
        start = time.perf_counter()
        if name == "one process":
            results[name] = partitioned_dedupe(
                store, tau, nprobe=args.nprobe, parts=parts, runner=run_locally
            )
        else:
            with ray_session(args.workers):
                ready = time.perf_counter()
                results[name] = partitioned_dedupe(
                    store, tau, nprobe=args.nprobe, parts=parts, runner=ray_runner
                )
            print(f"  (Ray start-up {ready - start:.1f}s, included)")
        seconds[name] = time.perf_counter() - start
        r = results[name]
        print(
            f"{name}: {seconds[name]:.1f}s; {len(r.groups):,} groups holding {r.n_grouped:,} questions, "
            f"{r.n_links:,} links"
        )
    one, other = results.values()
    same = one.groups == other.groups and one.n_links == other.n_links
    print(f"groups identical: {same}")


if __name__ == "__main__":
    main()
