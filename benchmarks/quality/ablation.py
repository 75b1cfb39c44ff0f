"""Compare training settings on QQP dev: each variant trains from the same seed and reports dev accuracy per epoch.

    python -m benchmarks.quality.ablation --data ../shared/data/qqp --epochs 8 --stop-after 2 [--only NAME ...]

Each variant is the default recipe with a few settings changed. Runs are sequential; pass
`--threads 1` and launch two copies with different `--only` lists to use both cores of a 2-core machine.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import replace

import torch
from rich.console import Console

from benchmarks.machine import benchmark_parser, describe
from siamdup.recipes import recipe_config
from siamdup.training.loop import train

# Every variant keeps the known non-duplicates as extra in-batch negatives; "epochs" is the length of its
# learning-rate schedule where it differs from --epochs (as in the runs recorded in the README).
REFERENCE = {
    "loss": "mined-triplet",
    "num_layers": 1,
    "bidirectional": False,
    "dropout": 0.0,
    "pair_loss_weight": 0.0,
    "lr": 2e-3,
}
SOFTMAX = {**REFERENCE, "loss": "in-batch-softmax", "lr": 5e-3}
BILSTM = {**SOFTMAX, "bidirectional": True}
VARIANTS: dict[str, dict] = {
    "reference loss, LSTM, lr 2e-3": REFERENCE,
    "reference loss, LSTM, lr 5e-3": {**REFERENCE, "lr": 5e-3},
    "in-batch softmax, lr 2e-3": {**SOFTMAX, "lr": 2e-3},
    "in-batch softmax, lr 5e-3": SOFTMAX,
    "  + batch 512, lr 7e-3": {**SOFTMAX, "lr": 7e-3, "batch_size": 512},
    "  + BiLSTM (64 per direction)": BILSTM,
    "  + BiLSTM + dropout 0.2": {**BILSTM, "dropout": 0.2, "epochs": 15},
    "  + 2 layers": {**BILSTM, "dropout": 0.2, "num_layers": 2, "epochs": 12},
    "  + 2 layers + contrastive term (default)": {
        **BILSTM,
        "dropout": 0.2,
        "num_layers": 2,
        "pair_loss_weight": 1.0,
        "epochs": 12,
    },
}


class StopAfter(Exception):
    pass


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--epochs", type=int, default=8, help="length of each variant's lr schedule")
    parser.add_argument("--stop-after", type=int, default=2, help="report after this many epochs")
    parser.add_argument("--only", nargs="*", help="names (or prefixes) of variants to run")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"machine: {describe()}")
    names = [n for n in VARIANTS if not args.only or any(n.strip().startswith(o) for o in args.only)]
    for name in names:
        settings = {"epochs": args.epochs, **VARIANTS[name]}
        config = replace(recipe_config("default"), patience=settings["epochs"], max_minutes=None, **settings)
        history: list[dict] = []

        def record(entry: dict, history: list[dict] = history) -> None:
            history.append(entry)
            if entry["epoch"] >= args.stop_after:
                raise StopAfter

        with tempfile.TemporaryDirectory() as out, contextlib.suppress(StopAfter):
            train(
                args.data / "train.tsv.gz",
                args.data / "dev.tsv",
                out,
                config,
                console=Console(quiet=True),
                on_epoch=record,
            )
        accs = "  ".join(f"{h['dev_accuracy']:.4f}" for h in history)
        speed = sum(h["pairs_per_s"] for h in history) / len(history)
        print(f"{name:34s} dev accuracy by epoch: {accs}   {speed:,.0f} pairs/s", flush=True)


if __name__ == "__main__":
    main()
