"""Upgrade saved models to undo the Penn-Treebank escapes of the Quora partition's text.

    python -m scripts.upgrade_ptb_escapes --data ../shared/data/qqp --models runs/w8 --write runs/upgraded

Every tokenizer siamdup builds now undoes those escapes first (`siamdup.tokenizer.ptb_detokenizer`); models
trained before that read them as they are. Each model is saved to DIR/<its folder name> with the undoing put
in front of its tokenizer and the τ re-tuned on dev, its metrics.json carried over (training figures) with
the new dev figures, so that an older model can join newer ones in `siamdup ensemble` (members must share a
tokenizer). `python -m benchmarks.quality.ptb_escapes` measures what the undoing is worth first.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.machine import benchmark_parser
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.tokenizer import with_ptb_detokenizer


def upgrade(path: Path, evaluator: PairEvaluator, dev_name: str, write: Path) -> Path:
    """Save the model at `path` to write/<its folder name>, with the undoing and τ re-tuned on dev."""
    model = Siamese.load(path)
    with_ptb_detokenizer(model.tokenizer.hf)
    dev = evaluator.tune(model)
    model.threshold = dev["threshold"]
    model.metadata = {
        **model.metadata,
        "threshold_source": f"accuracy-optimal on {dev_name} ({dev['n_pairs']} pairs)",
    }
    metrics = json.loads((path / "metrics.json").read_text()) if (path / "metrics.json").exists() else {}
    metrics["dev"] = dev
    return model.save(write / path.name, extra_files={"metrics.json": metrics})


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--models", type=Path, nargs="+", required=True, help="saved model directories")
    parser.add_argument("--write", type=Path, required=True, help="save each model, with the undoing, here")
    args = parser.parse_args()
    dev_path = args.data / "dev.tsv"
    evaluator = PairEvaluator(read_pairs(dev_path)[0], name="dev")
    for path in args.models:
        print(f"{path}: saved to {upgrade(path, evaluator, dev_path.name, args.write)}")


if __name__ == "__main__":
    main()
