"""Retrieval quality on dev: find each duplicate's partner among all dev questions, siamdup vs TF-IDF.

For every duplicate pair (q1, q2) of dev.tsv, all distinct dev questions are stored, q1 is the query and
q2 must be found (q1 itself excluded). Prints Recall@1, Recall@10 and MRR@10 for the model and for a
TF-IDF baseline (word 1-2 grams, sublinear tf, fitted on the shared train questions).

    python -m benchmarks.quality.retrieval --data ../shared/data/qqp
"""

from __future__ import annotations

import time
from pathlib import Path

from sklearn.feature_extraction.text import TfidfVectorizer

from benchmarks.machine import benchmark_parser, describe
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import RetrievalEvaluator


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    args = parser.parse_args()
    print(describe())

    dev, _ = read_pairs(args.data / "dev.tsv")
    evaluator = RetrievalEvaluator(dev, name="dev")
    print(f"dev: {len(evaluator.queries):,} queries among {len(evaluator.corpus):,} distinct questions")

    rows = []
    start = time.perf_counter()
    rows.append(
        (
            "siamdup (shipped model)" if args.model is None else f"siamdup ({args.model})",
            evaluator(Siamese.load(args.model)),
            time.perf_counter() - start,
        )
    )

    start = time.perf_counter()
    train, _ = read_pairs(args.data / "train.tsv.gz")
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    tfidf.fit([q for p in train for q in (p.question1, p.question2)])
    matrix = tfidf.transform(evaluator.corpus)  # rows are L2-normalised: the product is the cosine
    result = evaluator.from_scores(lambda r: (matrix[r] @ matrix.T).toarray())
    rows.append(("TF-IDF (word 1-2 grams)", result, time.perf_counter() - start))

    print("\n| method | Recall@1 | Recall@10 | MRR@10 | time (s) |")
    print("|---|---:|---:|---:|---:|")
    for name, r, seconds in rows:
        print(f"| {name} | {r['recall@1']:.4f} | {r['recall@10']:.4f} | {r['mrr@10']:.4f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
