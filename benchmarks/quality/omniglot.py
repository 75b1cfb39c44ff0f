"""Omniglot 20-way one-shot accuracy on the 20 standard runs: the image CNN beside two untrained baselines.

    python -m benchmarks.quality.omniglot --data ../shared/data/omniglot --out runs/omniglot --max-minutes 20

Trains the image encoder on the background "small" splits (or loads `--model`), then scores the 400 trials
of `all_runs.zip` with it, with the Modified Hausdorff Distance (the baseline shipped with the data) and with
nearest neighbour on raw pixels, all in the same run. Prints the training time (wall clock and CPU time; on
a busy machine the CPU time over the threads is the fairer figure) and the machine.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import benchmark_parser, describe
from siamdup.image.baselines import hausdorff_scores, pixel_scores
from siamdup.image.model import ImageModel
from siamdup.image.omniglot import load_runs
from siamdup.image.one_shot import accuracy_from_scores, run_scores
from siamdup.image.settings import ImageTrainConfig
from siamdup.image.training import train_images

NATIVE_SIZE = 105  # the baselines read the drawings as released


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(data=Path("../shared/data/omniglot"))
    parser.add_argument("--model", type=Path, help="score this trained image model instead of training one")
    parser.add_argument("--out", type=Path, default=Path("runs/omniglot"), help="where to train the model")
    parser.add_argument("--max-minutes", type=float, default=20.0, help="training time budget")
    parser.add_argument("--epochs", type=int, default=ImageTrainConfig.epochs)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--no-baselines", action="store_true", help="skip the Hausdorff and pixel baselines")
    parser.add_argument(
        "--no-hausdorff", action="store_true", help="skip the (slow) Hausdorff baseline, keep the pixel one"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {describe()}")
    if args.model is None:
        config = ImageTrainConfig(epochs=args.epochs, max_minutes=args.max_minutes)
        metrics = train_images(args.data, args.out, config, overwrite=True)
        model_dir = args.out
    else:
        model_dir = args.model
        metrics = _saved_metrics(model_dir)
    model = ImageModel.load(model_dir)
    print(
        f"training: {metrics.get('train_seconds', float('nan')):.0f} s wall, {metrics.get('cpu_seconds', float('nan')):.0f} s CPU "
        f"on {metrics.get('threads', '?')} threads; best epoch {metrics.get('best_epoch')} of "
        f"{len(metrics.get('history', []))}, validation 20-way {metrics['validation']['accuracy']:.4f}"
    )
    runs = load_runs(args.data, model.size)
    start = time.perf_counter()
    scores, answers = run_scores(runs, model.embed)
    seconds = time.perf_counter() - start
    print(
        f"CNN ({model_dir}): 20-way one-shot accuracy {accuracy_from_scores(scores, answers):.4f} over {answers.size} trials ({seconds:.2f} s)"
    )
    if args.no_baselines:
        return
    native = load_runs(args.data, NATIVE_SIZE)
    answers = np.stack([run.answers for run in native])
    print(f"raw pixels, nearest neighbour: {accuracy_from_scores(pixel_scores(native), answers):.4f}")
    if args.no_hausdorff:
        return
    start = time.perf_counter()
    mhd = accuracy_from_scores(hausdorff_scores(native, workers=args.threads), answers)
    print(f"Modified Hausdorff Distance: {mhd:.4f} ({time.perf_counter() - start:.0f} s)")


def _saved_metrics(model_dir: Path) -> dict:
    import json

    return json.loads((model_dir / "metrics.json").read_text())


if __name__ == "__main__":
    main()
