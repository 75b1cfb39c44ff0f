"""Write the docs' plots (PNG, docs/results/img/, and the README's picture in docs/assets/) from the recorded figures and from live models on dev.

    python -m benchmarks.plots.make_plots --data ../shared/data/qqp

Recorded: accuracy against encoding speed (docs/results/data/models.csv) and dev accuracy against training
minutes per recipe (training_curves.csv). Live, on dev.tsv: ROC curves and similarity histograms of the
shipped model, and recall@k curves of the shipped model beside all-MiniLM-L6-v2 as published (when the
`transformers` extra is installed), whose figures go to recall_at_k.csv. About 4 minutes of CPU time.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from benchmarks.plots import diagram, live, recorded
from siamdup import Siamese
from siamdup.data.readers import read_pairs

DOCS = Path(__file__).resolve().parents[2] / "docs"
RESULTS = DOCS / "results"


def baseline_minilm() -> Siamese | None:
    """all-MiniLM-L6-v2 as published, or None (with a notice) without the `transformers` extra."""
    try:
        from siamdup.pretrained import minilm_encoder, minilm_tokenizer

        return Siamese(minilm_tokenizer(), minilm_encoder())
    except ImportError as error:
        print(f"all-MiniLM-L6-v2 left out of the live plots: {error}")
        return None


def live_plots(data: Path, results: Path) -> None:
    pairs, _ = read_pairs(data / "dev.tsv")
    labels = np.array([p.label for p in pairs])
    shipped = Siamese.load()
    models = [live.score("shipped model", shipped, pairs, shipped.threshold)]
    minilm = baseline_minilm()
    if minilm is not None:
        # τ for the baseline: accuracy-optimal on dev, as the results pages' "as published" row has it.
        models.append(live.score("all-MiniLM-L6-v2 as published", minilm, pairs, threshold=0.751))
    live.plot_roc(labels, models, results / "img" / "roc.png")
    live.plot_histogram(labels, models[0], results / "img" / "similarity_histogram.png")
    live.plot_recall(models, results / "img" / "recall_at_k.png")
    with (results / "data" / "recall_at_k.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["model", *(f"recall_at_{k}" for k in live.KS), "mrr_at_10"])
        for m in models:
            mrr = float(np.mean(np.where(m.ranks <= 10, 1.0 / m.ranks, 0.0)))
            writer.writerow([m.name, *(f"{r:.4f}" for r in live.recall_at_k(m)), f"{mrr:.4f}"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("../shared/data/qqp"), help="holds dev.tsv")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results folder (img/ and data/)")
    parser.add_argument("--recorded-only", action="store_true", help="skip the plots that need the dev data")
    args = parser.parse_args()
    data = args.out / "data"
    diagram.draw(DOCS / "assets" / "how-it-works.png")
    recorded.plot_accuracy_speed(data / "models.csv", args.out / "img" / "accuracy_speed.png")
    recorded.plot_training_curves(data / "training_curves.csv", args.out / "img" / "training_curves.png")
    if not args.recorded_only:
        live_plots(args.data, args.out)
    print(f"plots written to {args.out / 'img'}")


if __name__ == "__main__":
    main()
