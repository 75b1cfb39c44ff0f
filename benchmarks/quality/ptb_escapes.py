"""What undoing the Penn-Treebank escapes of the Quora partition's text is worth to saved models.

    python -m benchmarks.quality.ptb_escapes --data ../shared/data/qqp --models runs/w8 runs/minilm-finetune

The standard partition (dev.tsv and the held-out test split) is PTB-tokenized: "ca n't", "-LRB- x -RRB-",
"`` quoted ''". Most of the training file, and what users type, is raw text. Every tokenizer siamdup builds
now undoes those escapes first (`siamdup.tokenizer.ptb_detokenizer`); models trained before that read them
as they are. For each model this prints dev accuracy at the τ tuned on dev, best F1 and ROC-AUC, read as
saved and with the undoing put in front of its tokenizer (no retraining), and how many dev pairs the
escapes touch. A model whose tokenizer already has the undoing is read the same way twice.

To save older models with the undoing (so that they can join newer ones in `siamdup ensemble`), run
`python -m scripts.upgrade_ptb_escapes`.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.machine import benchmark_parser, describe
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.tokenizer import PTB_ESCAPES, with_ptb_detokenizer


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--models", type=Path, nargs="+", required=True, help="saved model directories")
    args = parser.parse_args()
    dev_pairs, _ = read_pairs(args.data / "dev.tsv")
    touched = sum(
        any(escaped in q for escaped, _ in PTB_ESCAPES for q in (p.question1, p.question2)) for p in dev_pairs
    )
    print(f"machine: {describe()}")
    print(f"dev pairs with a PTB escape in either question: {touched:,} of {len(dev_pairs):,}")
    evaluator = PairEvaluator(dev_pairs, name="dev")
    for path in args.models:
        model = Siamese.load(path)
        for reading in ("as saved", "escapes undone"):
            if reading == "escapes undone":
                with_ptb_detokenizer(model.tokenizer.hf)
            dev = evaluator.tune(model)
            f1 = dev["best_threshold_on_this_data"]["f1"]
            print(
                f"{path} {reading:>14}: dev accuracy {dev['accuracy']:.4f} (τ {dev['threshold']:.3f}), "
                f"best F1 {f1['f1']:.4f} (τ {f1['threshold']:.3f}), ROC-AUC {dev['roc_auc']:.4f}"
            )


if __name__ == "__main__":
    main()
