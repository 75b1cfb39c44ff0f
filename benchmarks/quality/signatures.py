"""Online signature verification on SVC2004 Task 2: the learned model against DTW, side by side.

    python -m benchmarks.quality.signatures --data ../shared/data/signatures/svc2004

Trains a model on the training writers (default 1-20), picks its best epoch, scoring and τ on the dev
writers (default 21-30, never trained on), then scores the model and the DTW baseline on the same SVC2004
protocol trials of the dev writers: per writer 10 draws of 5 references from sessions 1-10, tested on
sessions 11-20 (genuine), 21-40 (skilled forgeries) and 20 genuine signatures of other dev writers.
`--model DIR` scores a trained model instead of training one. `--folds 3` repeats it over three writer
folds (1-10, 11-20, 21-30 each held out once), every fold trained with the same settings.

Prints skilled and random EER of each verifier, the training time, and the time to verify one signature
against 5 enrolled references (features + encoder + score; the references' vectors stored at enrolment).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import benchmark_parser, describe
from siamdup.signatures.benchmark import compare
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.training import SignatureTrainSettings, train_signatures
from siamdup.trajectory.svc2004 import load_svc2004

WRITERS = list(range(1, 31))


def verify_latency(model: SignatureModel, records, threads: int, repeats: int = 200) -> float:
    """Median ms to verify one signature against 5 stored reference vectors."""
    torch.set_num_threads(threads)
    references = model.embed([r.trajectory for r in records[:5]])
    query = records[5].trajectory
    times = []
    for _ in range(repeats + 20):
        start = time.perf_counter()
        model.decide(model.score(references, model.embed([query])[0]))
        times.append(time.perf_counter() - start)
    return statistics.median(times[20:]) * 1000


def run_fold(records, train_writers, dev_writers, args) -> tuple[SignatureModel, float]:
    settings = SignatureTrainSettings(epochs=args.epochs, max_minutes=args.max_minutes, seed=args.seed)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        train_signatures(records, train_writers, dev_writers, Path(folder) / "model", settings)
        seconds = time.perf_counter() - start
        return SignatureModel.load(Path(folder) / "model"), seconds


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(data=Path("../shared/data/signatures/svc2004"))
    parser.add_argument("--model", type=Path, help="score this trained model instead of training one")
    parser.add_argument("--train-writers", default="1-20", help="writers to train on (first..last)")
    parser.add_argument("--dev-writers", default="21-30", help="writers to tune and score on")
    parser.add_argument("--folds", type=int, default=1, choices=(1, 3), help="1 split, or 3 writer folds")
    parser.add_argument("--epochs", type=int, default=SignatureTrainSettings.epochs)
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {describe()}")
    records = load_svc2004(args.data)
    if args.folds == 3:
        splits = [
            ([w for w in WRITERS if not lo <= w <= lo + 9], list(range(lo, lo + 10))) for lo in (1, 11, 21)
        ]
    else:
        splits = [(_span(args.train_writers), _span(args.dev_writers))]
    pooled: dict[str, dict[str, list]] = {}
    for train_writers, dev_writers in splits:
        if args.model is not None:
            model = SignatureModel.load(args.model)
            train_writers = model.metadata.get("train_writers", train_writers)
            dev_writers = model.metadata.get("dev_writers", dev_writers)
        print(f"split: train writers {_show(train_writers)}, dev writers {_show(dev_writers)}")
        if args.model is not None:
            metrics = json.loads((args.model / "metrics.json").read_text())
            print(
                f"  training (from its metrics.json): {metrics['train_seconds'] / 60:.1f} min, "
                f"{metrics['epochs_run']} epochs, best epoch {metrics['best']['epoch']}"
            )
        else:
            model, seconds = run_fold(records, train_writers, dev_writers, args)
            print(f"  training: {seconds / 60:.1f} min ({args.threads} threads)")
        dev_records = [r for r in records if r.writer in set(dev_writers)]
        results = compare(model, dev_records, dev_writers, seed=args.seed)
        for name, scores in results.items():
            f = scores.figures()
            print(f"  {name:<6} skilled EER {f['skilled_eer']:6.2%}   random EER {f['random_eer']:6.2%}")
            for kind in ("genuine", "skilled", "random"):
                pooled.setdefault(name, {}).setdefault(kind, []).append(getattr(scores, kind))
    if len(splits) > 1:
        from siamdup.signatures.evaluation import ProtocolScores

        print("all folds pooled:")
        for name, kinds in pooled.items():
            f = ProtocolScores(
                *(np.concatenate(kinds[k]) for k in ("genuine", "skilled", "random"))
            ).figures()
            print(f"  {name:<6} skilled EER {f['skilled_eer']:6.2%}   random EER {f['random_eer']:6.2%}")
    for threads in (1, 2):
        ms = verify_latency(model, records, threads)
        print(f"verify 1 signature against 5 references: {ms:.2f} ms median ({threads} thread(s))")
    print(
        f"model: {model.aggregation} over references, normalisation {model.normalisation}, τ {model.threshold:.4f}"
    )


def _span(spec: str) -> list[int]:
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last or first) + 1))


def _show(writers: list[int]) -> str:
    return (
        f"{writers[0]}-{writers[-1]}" if writers == list(range(writers[0], writers[-1] + 1)) else str(writers)
    )


if __name__ == "__main__":
    main()
