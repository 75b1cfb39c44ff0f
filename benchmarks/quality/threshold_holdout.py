"""How much tuning τ on dev flatters the dev accuracy: an estimate of the accuracy on unseen pairs.

    python -m benchmarks.quality.threshold_holdout --data ../shared/data/qqp --models src/siamdup/default_model runs/w8s1

Every dev figure in the README has τ chosen on the same dev pairs it is measured on. This splits dev in
two at random, chooses τ on one half and measures accuracy on the other, `--repeats` times. It prints,
per model, the accuracy at the model's stored τ, the mean and spread of the held-out-half accuracy, and the
optimism: how much higher the other half's own best τ would have scored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.machine import benchmark_parser, describe
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.metrics import best_threshold, pair_metrics


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--models", type=Path, nargs="+", required=True, help="model directories")
    parser.add_argument("--repeats", type=int, default=50, help="random halvings of dev")
    args = parser.parse_args()
    pairs, _ = read_pairs(args.data / "dev.tsv")
    evaluator = PairEvaluator(pairs, name="dev")
    labels = evaluator.labels
    print(f"machine: {describe()}")
    print(f"{len(pairs):,} dev pairs, {args.repeats} random halvings (seed 0)")
    for path in args.models:
        model = Siamese.load(path)
        scores = evaluator.scores(model)
        rng = np.random.default_rng(0)
        held_out, optimism = [], []
        for _ in range(args.repeats):
            order = rng.permutation(len(labels))
            tune, test = order[: len(order) // 2], order[len(order) // 2 :]
            threshold, _ = best_threshold(labels[tune], scores[tune])
            accuracy = pair_metrics(labels[test], scores[test], threshold)["accuracy"]
            held_out.append(accuracy)
            optimism.append(best_threshold(labels[test], scores[test])[1] - accuracy)
        stored = pair_metrics(labels, scores, model.threshold)["accuracy"]
        print(
            f"{path}: accuracy {stored:.4f} at its stored τ {model.threshold:.3f}; with τ from the other half "
            f"{np.mean(held_out):.4f} (sd {np.std(held_out):.4f}); optimism of a tuned τ {np.mean(optimism):.4f}"
        )


if __name__ == "__main__":
    main()
