"""Reproduce the accuracy tables of issue #4: each variant trained on the shared train file, judged on dev.

    python -m benchmarks.quality.recipes --data ../shared/data/qqp [--only NAME ...] [--max-minutes M]

Every variant is a named recipe with a few settings changed, trained by `siamdup.training.loop.train` from the same
seed (`minilm-as-is` is all-MiniLM-L6-v2 untrained, only its τ tuned on dev). For each it prints dev
accuracy at the τ tuned on dev (the τ stored with the model), the F1-optimal τ and its F1, ROC-AUC,
training wall time, model size and encoding speed. Runs are sequential and take 10-25 minutes each on 2 CPU
cores (the `minilm-finetune*` rows 35-120 minutes); `--max-minutes` caps each one (for a quick check of the
script).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.console import Console

from benchmarks.machine import benchmark_parser, describe
from benchmarks.peers.common import best_seconds
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.metrics import best_threshold
from siamdup.pretrained import minilm_encoder, minilm_tokenizer
from siamdup.recipes import recipe_config
from siamdup.training.loop import train

# name: (recipe, settings changed). The README's accuracy tables list the same rows. The recipe None: not
# trained.
MINILM_12 = {"embeddings": "minilm"}
# The recipe shipped before the current one: MiniLM embeddings, 2-layer BiLSTM (d 128), cluster positives 0.5.
PREVIOUS = {**MINILM_12, "cluster_positives": 0.5}
MINILM_8 = {**PREVIOUS, "epochs": 8, "bf16": True}
WIDE = {"d_model": 256, "num_layers": 1}  # one BiLSTM layer of 128 per direction instead of two of 64
ONE_EPOCH = {"epochs": 1, "lr": 1e-4}  # the transformer screens: one epoch, cosine schedule over it
UNBALANCED = {"pair_balanced": False}  # the transformer's contrastive term as one mean over its pairs
# The transformer recipe before those: 3 epochs in up to 115 minutes, known non-duplicates as extra columns.
FINETUNE_BEFORE = {**UNBALANCED, "hard_negatives": True, "epochs": 3, "max_minutes": 115.0}
VARIANTS: dict[str, tuple[str | None, dict]] = {
    "default": ("default", {}),
    # The first screen: 12 epochs of the default recipe with MiniLM's embeddings, one setting changed.
    "minilm-12": ("default", MINILM_12),
    "minilm-12-dropout-0.3": ("default", {**MINILM_12, "dropout": 0.3}),
    "minilm-12-batch-512": ("default", {**MINILM_12, "batch_size": 512}),
    "minilm-12-mean-max-pooling": ("default", {**MINILM_12, "pooling": "mean+max"}),
    "minilm-12-mined-negatives": ("default", {**MINILM_12, "mined_negatives": True}),
    "minilm-12-cluster-positives": ("default", {**MINILM_12, "cluster_positives": 0.5}),
    "minilm-20": ("default", {**MINILM_12, "epochs": 20}),
    "minilm-20-cluster-positives": ("default", {**PREVIOUS, "epochs": 20}),
    # The second screen: that recipe in 8 epochs under bfloat16 autocast, one setting changed.
    "minilm-8": ("default", MINILM_8),
    "minilm-8-embedding-lr-0.1": ("default", {**MINILM_8, "embedding_lr_ratio": 0.1}),
    "minilm-8-pair-weight-2": ("default", {**MINILM_8, "pair_loss_weight": 2.0}),
    "minilm-8-wide": ("default", {**MINILM_8, **WIDE}),
    "minilm-8-wide-pair-weight-4": ("default", {**MINILM_8, **WIDE, "pair_loss_weight": 4.0}),
    # The recipe at contrastive weights 2 (shipped before), 4 and 16, and the shipped recipe itself (weight 8).
    "minilm-wide-pair-weight-2": ("minilm", {"pair_loss_weight": 2.0}),
    "minilm-wide-pair-weight-4": ("minilm", {"pair_loss_weight": 4.0}),
    "minilm-wide-pair-weight-16": ("minilm", {"pair_loss_weight": 16.0}),
    "minilm-recipe": ("minilm", {}),
    "minilm-pair-balanced": ("minilm", {"pair_balanced": True}),  # measured after the transformer's
    "minilm-as-is": (None, {}),
    # The whole transformer fine-tuned. Rows measured before the recipe dropped the extra softmax columns
    # pin the recipe they ran (FINETUNE_BEFORE): its first settings (3 epochs at lr 3e-5, contrastive weight
    # 1), one epoch at lr 1e-4 with the contrastive term at weights 1, 8 and 16, the same over 2 and 3
    # epochs; then the recipe without the extra columns but with one mean over the contrastive term's
    # pairs (UNBALANCED, the recipe before this one), and it with a fourth epoch.
    "minilm-finetune-lr-3e-5": ("minilm-finetune", {**FINETUNE_BEFORE, "lr": 3e-5, "pair_loss_weight": 1.0}),
    "minilm-finetune-1-epoch": ("minilm-finetune", {**FINETUNE_BEFORE, **ONE_EPOCH, "pair_loss_weight": 1.0}),
    "minilm-finetune-1-epoch-pair-weight-8": (
        "minilm-finetune",
        {**FINETUNE_BEFORE, **ONE_EPOCH, "pair_loss_weight": 8.0},
    ),
    "minilm-finetune-1-epoch-pair-weight-16": (
        "minilm-finetune",
        {**FINETUNE_BEFORE, **ONE_EPOCH, "pair_loss_weight": 16.0},
    ),
    "minilm-finetune-1-epoch-no-hard-negatives": (
        "minilm-finetune",
        {**FINETUNE_BEFORE, **ONE_EPOCH, "hard_negatives": False},
    ),
    "minilm-finetune-2-epochs": ("minilm-finetune", {**FINETUNE_BEFORE, "epochs": 2}),
    "minilm-finetune-pair-weight-16": ("minilm-finetune", {**FINETUNE_BEFORE, "pair_loss_weight": 16.0}),
    "minilm-finetune-batch-pair-negatives": (
        "minilm-finetune",
        {**FINETUNE_BEFORE, "pair_negatives": "batch"},
    ),
    "minilm-finetune-3-epochs-hard-negatives": ("minilm-finetune", FINETUNE_BEFORE),
    "minilm-finetune-unbalanced": ("minilm-finetune", UNBALANCED),
    "minilm-finetune-4-epochs": ("minilm-finetune", {**UNBALANCED, "epochs": 4}),
    # One-epoch screens against the recipe before, cut to one epoch (the `-1-epoch-no-hard-negatives` row's
    # settings): twice the batch (more in-batch negatives, half the steps) and the balanced contrastive term,
    # which won and, over the 3 epochs, is the recipe now.
    "minilm-finetune-1-epoch-batch-256": ("minilm-finetune", {**UNBALANCED, "epochs": 1, "batch_size": 256}),
    "minilm-finetune-1-epoch-pair-balanced": ("minilm-finetune", {"epochs": 1}),
    "minilm-finetune": ("minilm-finetune", {}),
}


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument(
        "--only",
        nargs="*",
        choices=list(VARIANTS),
        metavar="NAME",
        help=f"variants to run: {', '.join(VARIANTS)}",
    )
    parser.add_argument("--max-minutes", type=float, default=None, help="cap each variant's training time")
    args = parser.parse_args()
    console = Console(stderr=True)
    dev_pairs, _ = read_pairs(args.data / "dev.tsv")
    evaluator = PairEvaluator(dev_pairs, name="dev")
    questions = list(dict.fromkeys(q for p in dev_pairs for q in (p.question1, p.question2)))
    rows = []
    for name, (recipe, settings) in VARIANTS.items():
        if args.only and name not in args.only:
            continue
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            if recipe is None:
                console.print(f"[bold]{name}[/]: all-MiniLM-L6-v2 as published, τ tuned on dev")
                Siamese(minilm_tokenizer(), minilm_encoder()).save(out)
                model = Siamese.load(out)
                dev = evaluator.tune(model)
            else:
                config = replace(recipe_config(recipe), **settings)
                if args.max_minutes is not None:
                    config.max_minutes = args.max_minutes
                console.print(f"[bold]{name}[/]: {config}")
                metrics = train(
                    args.data / "train.tsv.gz", args.data / "dev.tsv", out, config, console=console
                )
                dev = metrics["dev"]
                model = Siamese.load(out)
            wall = time.perf_counter() - start
            size_mb = (Path(out) / "model.safetensors").stat().st_size / 2**20
        scores = evaluator.scores(model)
        f1_tau, f1 = best_threshold(evaluator.labels, scores, "f1")
        encode = len(questions) / best_seconds(lambda model=model: model.encode(questions))
        training = "none" if recipe is None else f"{wall / 60:.1f} min"
        rows.append(
            f"| {name} | {dev['accuracy']:.4f} (τ {dev['threshold']:.3f}) | {f1:.4f} (τ {f1_tau:.3f}) | "
            f"{dev['roc_auc']:.4f} | {training} | {size_mb:.1f} MB | {encode:,.0f} q/s |"
        )
    print(f"machine: {describe()}")
    print(
        "| variant | dev accuracy (at τ) | best F1 (at τ) | ROC-AUC | training, wall | model size | encoding |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))
    print(
        f"dev: {len(dev_pairs):,} pairs; τ tuned on dev, so dev figures are slightly optimistic ({np.mean(evaluator.labels):.0%} duplicates)"
    )


if __name__ == "__main__":
    main()
