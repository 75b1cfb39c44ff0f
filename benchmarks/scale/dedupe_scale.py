"""`siamdup dedupe` on 500,000 real questions (see corpus.py beside it): wall time, peak memory, groups found.

Runs the command exactly as a user would, in a child process, and reads its peak RSS from the OS.

    python -m benchmarks.scale.dedupe_scale --data ../shared/data/qqp
"""

from __future__ import annotations

import csv
import resource
import subprocess
import sys
import time
from collections import Counter

from benchmarks.machine import describe
from benchmarks.scale.corpus import build_corpus, corpus_parser


def main() -> None:
    parser = corpus_parser(__doc__)
    args = parser.parse_args()
    print(describe())
    corpus = build_corpus(args.data, args.size, args.cache)
    out = args.cache / f"groups-{args.size}.csv"
    command = ["siamdup", "dedupe", "--input", str(corpus), "--id-column", "id", "--out", str(out)]
    print("$ " + " ".join(command))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "siamdup", *command[1:]], check=True)
    wall = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    with open(out, newline="", encoding="utf-8") as f:
        sizes = Counter({int(r["group"]): int(r["size"]) for r in csv.DictReader(f)})
    by_size = Counter(sizes.values())
    print(f"\n{args.size:,} questions: {wall:.1f}s wall, peak memory {peak_mb:,.0f} MB")
    print(
        f"{len(sizes):,} groups holding {sum(sizes.values()):,} questions; group sizes: "
        + ", ".join(f"{n:,}×{s}" for s, n in sorted(by_size.items())[:6])
        + f", ... largest {max(sizes.values()):,}"
    )


if __name__ == "__main__":
    main()
