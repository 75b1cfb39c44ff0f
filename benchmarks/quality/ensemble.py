"""The ensemble bi-encoder of issue #4's goal 2: trained models joined, their weights and τ tuned on dev.

    python -m benchmarks.quality.ensemble --data ../shared/data/qqp --members runs/minilm runs/minilm-finetune

Each member is a model directory trained by `siamdup train` (its metrics.json holds its training time).
Prints the machine, each member's dev figures and training time, the ensemble's dev accuracy at the tuned
τ, best F1, ROC-AUC, the weights chosen, the members' training time summed (the issue's bar is 2 hours),
model size and encoding speed, and the model card's example pairs (the course's two among them).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks.machine import benchmark_parser, describe
from benchmarks.peers.common import best_seconds
from benchmarks.quality.examples import EXAMPLES
from siamdup import Siamese
from siamdup.combine import combine
from siamdup.data.readers import read_pairs


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--members", type=Path, nargs="+", required=True, help="trained model directories")
    parser.add_argument("--step", type=float, default=0.05, help="grid step of the weights tried")
    parser.add_argument("--out", type=Path, default=None, help="also save the ensemble model here")
    args = parser.parse_args()
    dev_pairs, _ = read_pairs(args.data / "dev.tsv")
    questions = list(dict.fromkeys(q for p in dev_pairs for q in (p.question1, p.question2)))
    members = [Siamese.load(m) for m in args.members]
    print(f"machine: {describe()}")
    model, report = combine(members, dev_pairs, step=args.step)
    total_minutes = 0.0
    for path, member, dev in zip(args.members, members, report["members"], strict=True):
        run = json.loads((path / "metrics.json").read_text())["train"]
        total_minutes += run["seconds"] / 60
        print(
            f"member {path}: {member.config()['architecture']}, dev accuracy {dev['accuracy']:.4f} "
            f"(τ {dev['threshold']:.3f}), ROC-AUC {dev['roc_auc']:.4f}, trained {run['seconds'] / 60:.1f} min"
        )
    with tempfile.TemporaryDirectory() as folder:
        saved = model.save(args.out or folder)
        size_mb = (saved / "model.safetensors").stat().st_size / 2**20
    best_f1 = report["best_threshold_on_this_data"]["f1"]
    encode = len(questions) / best_seconds(lambda: model.encode(questions))
    weights = ", ".join(f"{w:.2f}" for w in model.encoder.config.weights)
    print(f"ensemble weights      {weights} (tuned on dev, step {args.step})")
    print(f"dev accuracy at τ     {report['accuracy']:.4f}  (τ = {report['threshold']:.3f}, tuned on dev)")
    print(f"best F1 (τ)           {best_f1['f1']:.4f} ({best_f1['threshold']:.3f})")
    print(f"dev ROC-AUC           {report['roc_auc']:.4f}")
    print(f"training, summed      {total_minutes:.1f} min")
    print(f"model size            {size_mb:.1f} MB, {model.dim} dimensions")
    print(f"encoding              {encode:,.0f} q/s")
    for a, b in EXAMPLES:
        score = float(model.similarity([a], [b])[0])
        verdict = "duplicate" if score > model.threshold else "not duplicate"
        print(f"{a!r} / {b!r}: {score:.3f} ({verdict})")


if __name__ == "__main__":
    main()
