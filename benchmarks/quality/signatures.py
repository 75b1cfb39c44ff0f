"""Online signature verification on SVC2004 Task 2: the learned model, DTW and their fusion, side by side,
on writers the model never saw, over writer-disjoint folds.

    python -m benchmarks.quality.signatures --data ../shared/data/signatures/svc2004 --folds 3

`--folds K` cuts writers 1-30 into K blocks; each block is scored by a model trained on the other writers
(see `siamdup.signatures.kfold`): of those, every fourth is the fold's inner dev writers, which alone
choose the epoch, the scoring, the fusion weight and τ. Every fold scores the model, DTW and the fused
rule on the same SVC2004 protocol trials of its writers (per writer 10 draws of 5 references from
sessions 1-10, tested on sessions 11-20, 21-40 and 20 genuine signatures of other writers of the block).
`--fold-dir DIR` keeps each fold's model there, and a fold whose model is already there is scored, not
trained again. `--model DIR` scores one trained model on `--writers` instead (default: its dev writers).

Prints per fold and over all folds (pooled trials, and the mean of the folds) skilled and random EER of
each verifier, the error rates of the fused rule at its stored τ, the training time, and the time to
verify one signature against 5 enrolled references (features, encoder, DTW, score).
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import benchmark_parser, describe
from siamdup.signatures.benchmark import compare
from siamdup.signatures.evaluation import ProtocolScores
from siamdup.signatures.kfold import WriterFold, writer_folds
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.training import SignatureTrainSettings, train_signatures
from siamdup.signatures.tuning import fuse_on_dev
from siamdup.trajectory.svc2004 import load_svc2004

WRITERS = list(range(1, 31))
KINDS = ("genuine", "skilled", "random")


def verify_latency(model: SignatureModel, records, repeats: int = 200) -> tuple[float, float]:
    """Median and fastest ms to verify one signature against 5 references whose vectors were stored at
    enrolment (on a shared machine the median carries the other jobs' load; the fastest does not)."""
    references = [r.trajectory for r in records[:5]]
    vectors = model.embed(references)
    query = records[5].trajectory
    times = []
    for _ in range(repeats + 20):
        start = time.perf_counter()
        model.decide(model.score_signatures(references, query, vectors))
        times.append(time.perf_counter() - start)
    return statistics.median(times[20:]) * 1000, min(times[20:]) * 1000


def fold_model(records, fold: WriterFold, args) -> tuple[SignatureModel, str]:
    """The fold's model: the one kept in --fold-dir, or one trained now on the fold's training writers."""
    folder = args.fold_dir / fold.name if args.fold_dir else None
    if folder is not None and (folder / "config.json").exists():
        model, note = SignatureModel.load(folder), f"model kept in {folder}"
    else:
        import tempfile

        settings = SignatureTrainSettings(epochs=args.epochs, max_minutes=args.max_minutes, seed=args.seed)
        target = folder or Path(tempfile.mkdtemp()) / fold.name
        start = time.perf_counter()
        train_signatures(records, fold.train, fold.inner_dev, target, settings)
        model = SignatureModel.load(target)
        note = f"trained in {(time.perf_counter() - start) / 60:.1f} min"
    if model.fusion is None:  # a model trained without its fused rule: tune it on the inner dev writers
        fuse_on_dev(model, [r for r in records if r.writer in fold.inner_dev], fold.inner_dev, args.seed)
    return model, note


def show(name: str, scores: ProtocolScores, threshold: float | None = None) -> dict:
    f = scores.figures()
    line = f"  {name:<6} skilled EER {f['skilled_eer']:6.2%}   random EER {f['random_eer']:6.2%}"
    if threshold is not None:
        frr = float(np.mean(scores.genuine <= threshold))
        far_s, far_r = float(np.mean(scores.skilled > threshold)), float(np.mean(scores.random > threshold))
        line += f"   at τ: FRR {frr:.2%}, FAR skilled {far_s:.2%}, random {far_r:.2%}"
    print(line)
    return f


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.set_defaults(data=Path("../shared/data/signatures/svc2004"))
    parser.add_argument("--folds", type=int, default=3, help="writer folds over writers 1-30")
    parser.add_argument("--fold-dir", type=Path, help="keep (or reuse) each fold's model here")
    parser.add_argument("--model", type=Path, help="score this trained model instead of running folds")
    parser.add_argument("--writers", default=None, help="writers to score --model on, e.g. 21-30")
    parser.add_argument("--epochs", type=int, default=SignatureTrainSettings.epochs)
    parser.add_argument("--max-minutes", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {describe()}")
    records = load_svc2004(args.data)
    if args.model is not None:
        model = SignatureModel.load(args.model)
        scored = _span(args.writers) if args.writers else model.metadata["dev_writers"]
        runs = [(model, scored, f"model {args.model}")]
    else:
        runs = []
        for fold in writer_folds(WRITERS, args.folds):
            model, note = fold_model(records, fold, args)
            print(f"fold {fold.name}: trained on {fold.train}, tuned on {fold.inner_dev} ({note})")
            runs.append((model, fold.scored, fold.name))
    pooled: dict[str, dict[str, list]] = {}
    per_fold: dict[str, list[dict]] = {}
    for model, scored, name in runs:
        print(
            f"{name}: scored on writers {scored}; {model.aggregation} over references, normalisation "
            f"{model.normalisation}, fusion weight {model.fusion.weight if model.fusion else '-'}, "
            f"τ {model.threshold:.4f}"
        )
        results = compare(model, [r for r in records if r.writer in set(scored)], scored, seed=args.seed)
        for verifier, scores in results.items():
            fused_tau = model.threshold if verifier == "fused" and model.fusion else None
            per_fold.setdefault(verifier, []).append(show(verifier, scores, fused_tau))
            for kind in KINDS:
                pooled.setdefault(verifier, {}).setdefault(kind, []).append(getattr(scores, kind))
    if len(runs) > 1:
        print(f"all {len(runs)} folds, trials pooled (and the mean of the folds' EERs):")
        for verifier, kinds in pooled.items():
            f = ProtocolScores(*(np.concatenate(kinds[k]) for k in KINDS)).figures()
            mean = {
                k: statistics.mean(x[k] for x in per_fold[verifier]) for k in ("skilled_eer", "random_eer")
            }
            print(
                f"  {verifier:<6} skilled EER {f['skilled_eer']:6.2%} (mean {mean['skilled_eer']:6.2%})   "
                f"random EER {f['random_eer']:6.2%} (mean {mean['random_eer']:6.2%})"
            )
    torch.set_num_threads(1)
    median, fastest = verify_latency(runs[-1][0], records)
    print(
        f"verify 1 signature against 5 references (the model's rule, 1 thread): {median:.2f} ms median, "
        f"{fastest:.2f} ms fastest (load average {os.getloadavg()[0]:.1f})"
    )


def _span(spec: str) -> list[int]:
    first, _, last = spec.partition("-")
    return list(range(int(first), int(last or first) + 1))


if __name__ == "__main__":
    main()
