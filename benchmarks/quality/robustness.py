"""Robustness checks on dev data, for several models side by side in one run.

1. Retrieval over all distinct dev questions: Recall@1, Recall@10, MRR@10 (`RetrievalEvaluator`).
2. The contrast set (`siamdup.robustness.contrast`): pairs of a dev question and a copy with one decisive
   word changed (wh-word, number, negation, name, word order), not duplicates by construction, plus an
   order control that keeps the meaning; accuracy at each model's τ and mean cosine per kind.
3. An out-of-domain proxy (`siamdup.robustness.proxy`): Debian package descriptions and man-page
   sentences found on this machine, each against a lightly edited copy of itself (duplicate) and against
   a copy with one content word swapped, a sentence sharing words and a random one (not); ROC-AUC and
   accuracy at τ. No labelled paraphrases: a proxy, not a paraphrase test.

Models: the shipped one, all-MiniLM-L6-v2 as published (its τ tuned on dev for accuracy, as the
accuracy page's "as published" row; needs the `transformers` extra) and each `--model DIR` at its stored τ.

    python -m benchmarks.quality.robustness --data ../shared/data/qqp [--model DIR ...] [--csv docs/results/data]
"""

from __future__ import annotations

import csv
import itertools
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.machine import benchmark_parser, describe
from benchmarks.scale.corpus import debian_descriptions, man_page_sentences
from siamdup import Siamese
from siamdup.data.readers import Pair, read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.robustness import (
    build_contrast_set,
    build_proxy_pairs,
    contrast_rows,
    proxy_rows,
    retrieval_rows,
)
from siamdup.robustness.proxy import KINDS

MAN_SENTENCES = 60_000  # the first man-page sentences read: enough to draw from, and seconds, not a minute


def run_checks(
    models: dict[str, Siamese],
    dev: Sequence[Pair],
    sentences: Sequence[str],
    seed: int = 0,
    per_kind: int = 500,
    anchors: int = 1000,
) -> dict[str, list[dict]]:
    """The three checks' rows for every model: {"retrieval": ..., "contrast": ..., "ood": ...}."""
    contrast = build_contrast_set((q for p in dev for q in (p.question1, p.question2)), seed, per_kind)
    return {
        "retrieval": retrieval_rows(models, dev),
        "contrast": contrast_rows(models, contrast),
        "ood": proxy_rows(models, build_proxy_pairs(sentences, anchors, seed)),
    }


def load_models(paths: Sequence[Path], dev: Sequence[Pair], minilm: bool) -> dict[str, Siamese]:
    models = {"shipped model": Siamese.load()}
    if minilm:
        try:
            from siamdup.pretrained import minilm_encoder, minilm_tokenizer

            published = Siamese(minilm_tokenizer(), minilm_encoder())
        except ImportError as error:
            print(f"all-MiniLM-L6-v2 left out: {error}")
        else:
            published.threshold = PairEvaluator(dev).tune(published)["threshold"]
            models["all-MiniLM-L6-v2 as published"] = published
    for path in paths:
        models[str(path)] = Siamese.load(path)
    return models


def print_tables(tables: dict[str, list[dict]], names: Sequence[str]) -> None:
    print("\n## Retrieval over dev questions\n")
    print("| model | τ | Recall@1 | Recall@10 | MRR@10 |\n|---|---:|---:|---:|---:|")
    for r in tables["retrieval"]:
        print(
            f"| {r['model']} | {r['threshold']:.3f} | {r['recall@1']:.4f} | {r['recall@10']:.4f} | {r['mrr@10']:.4f} |"
        )
    print("\n## Contrast set: accuracy at τ (mean cosine)\n")
    print("| kind | label | pairs | " + " | ".join(names) + " |")
    print("|---|---:|---:|" + "---:|" * len(names))
    rows = {(r["kind"], r["model"]): r for r in tables["contrast"]}
    for kind in dict.fromkeys(r["kind"] for r in tables["contrast"]):
        first = rows[kind, names[0]]
        cells = [f"{rows[kind, n]['accuracy']:.3f} ({rows[kind, n]['mean_similarity']:.3f})" for n in names]
        print(f"| {kind} | {first['label']} | {first['pairs']} | " + " | ".join(cells) + " |")
    print("\n## Out-of-domain proxy (non-Quora sentences): ROC-AUC; accuracy at τ (mean cosine)\n")
    kinds = KINDS
    print("| model | ROC-AUC | vs word-swapped | vs neighbour | " + " | ".join(kinds) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(kinds))
    for r in tables["ood"]:
        aucs = [f"{r['roc_auc']:.4f}", f"{r['roc_auc_word-swapped']:.4f}", f"{r['roc_auc_neighbour']:.4f}"]
        cells = [f"{r[f'accuracy_{k}']:.3f} ({r[f'mean_similarity_{k}']:.3f})" for k in kinds]
        print(f"| {r['model']} | " + " | ".join(aucs + cells) + " |")


def write_csv(tables: dict[str, list[dict]], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for check, rows in tables.items():
        with (folder / f"robustness_{check}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(
                {k: f"{v:.4f}" if isinstance(v, float) else v for k, v in r.items()} for r in rows
            )


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument(
        "--model", type=Path, action="append", default=[], help="a model directory (repeatable)"
    )
    parser.add_argument("--no-minilm", action="store_true", help="leave out all-MiniLM-L6-v2 as published")
    parser.add_argument("--seed", type=int, default=0, help="seed of the contrast set and the proxy")
    parser.add_argument("--per-kind", type=int, default=500, help="contrast pairs kept per kind of edit")
    parser.add_argument(
        "--anchors", type=int, default=1000, help="proxy anchor sentences (up to 4 pairs each)"
    )
    parser.add_argument("--csv", type=Path, default=None, help="write robustness_*.csv into this folder")
    args = parser.parse_args()
    print(describe())
    start = time.perf_counter()
    dev, _ = read_pairs(args.data / "dev.tsv")
    models = load_models(args.model, dev, minilm=not args.no_minilm)
    sentences = [*debian_descriptions(), *itertools.islice(man_page_sentences(), MAN_SENTENCES)]
    print(f"dev: {len(dev):,} pairs; proxy drawn from {len(sentences):,} Debian and man-page sentences")
    tables = run_checks(models, dev, sentences, args.seed, args.per_kind, args.anchors)
    print_tables(tables, list(models))
    print(f"\n{time.perf_counter() - start:.0f} s; seed {args.seed}")
    if args.csv is not None:
        write_csv(tables, args.csv)
        print(f"CSV written to {args.csv}")


if __name__ == "__main__":
    main()
