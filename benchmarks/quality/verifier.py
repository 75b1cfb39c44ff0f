"""The verifier: training speed, dev figures of a trained one on PyTorch and ONNX Runtime (float and int8),
the showcase pairs, and what `--verify` costs a query.

    python -m benchmarks.quality.verifier --data ../shared/data/qqp --verifier runs/verifier [--dev-pairs 1000]

Prints the machine (and its load average: figures taken on a shared machine say so), then:
- training pairs/s of the `verifier` recipe's step (MiniLM, batches of 32 pairs, bf16 where the CPU has it);
- the trained verifier's metrics.json: dev accuracy, ROC-AUC, ECE, training time and pairs seen;
- on the first `--dev-pairs` dev pairs: accuracy at the stored threshold, ROC-AUC, ECE and pairs/s of the
  verifier on ONNX float and ONNX int8 (and PyTorch with --pytorch; it exports the graphs into the verifier's directory), with
  the graphs' sizes;
- the two showcase pairs, scored by the verifier and by the shipped bi-encoder;
- `index query --verify` for one question, k = 10, over an index of the dev questions: p50 latency with
  and without the verifier, and verified pairs/s beside the bi-encoder's pairs/s.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import torch

from benchmarks.machine import benchmark_parser, describe
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.index import DuplicateIndex
from siamdup.recipes import recipe_config
from siamdup.verify import OnnxVerifier, Verifier, export_onnx
from siamdup.verify.evaluation import evaluate_verifier
from siamdup.verify.onnx import graph_size

SHOWCASE = [
    ("How old are you?", "What is your age?", 1),
    ("Where are you from?", "Where are you going?", 0),
]


def training_speed(train_path: Path, steps: int) -> float:
    """Pairs/s of the verifier recipe's training step on real pairs (after two warm-up steps)."""
    from siamdup.model.precision import bf16_supported
    from siamdup.verify.building import new_verifier
    from siamdup.verify.pairs import both_orders
    from siamdup.verify.training import VerifierRun, train_step

    config = recipe_config("verifier")
    pairs, _ = read_pairs(train_path)
    verifier = new_verifier(config.max_length)
    examples = both_orders(pairs[: config.batch_size * (steps + 2)], verifier.tokenizer)
    optimizer = torch.optim.AdamW(
        [{"params": list(verifier.encoder.parameters()), "lr_ratio": 1.0}], lr=config.lr
    )
    run = VerifierRun(config, examples, None, {}, verifier, optimizer, 1.0, bf16_supported("cpu"), None)  # type: ignore[arg-type]
    verifier.encoder.train()
    batches = [list(range(s * config.batch_size, (s + 1) * config.batch_size)) for s in range(steps + 2)]
    for rows in batches[:2]:
        train_step(run, rows, config.lr)
    start = time.perf_counter()
    for rows in batches[2:]:
        train_step(run, rows, config.lr)
    return steps * config.batch_size / (time.perf_counter() - start)


def dev_figures(name: str, scorer, evaluator: PairEvaluator) -> None:
    start = time.perf_counter()
    report = evaluate_verifier(evaluator, scorer)
    speed = len(evaluator.labels) / (time.perf_counter() - start)
    print(
        f"{name:<12} accuracy {report['accuracy']:.4f} at threshold {report['threshold']:.3f}  "
        f"ROC-AUC {report['roc_auc']:.4f}  ECE {report['ece']:.4f}  {speed:,.0f} pairs/s"
    )


def query_latency(index: DuplicateIndex, questions: list[str], verifier, repeats: int) -> float:
    """p50 milliseconds of one question's query, k = 10 (with the verifier when given)."""
    times = []
    for question in (questions * repeats)[:repeats]:
        start = time.perf_counter()
        index.query(question, k=10, verify=verifier is not None, verifier=verifier)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--verifier", type=Path, required=True, help="a trained verifier directory")
    parser.add_argument("--dev-pairs", type=int, default=10_000, help="dev pairs scored (the first N)")
    parser.add_argument("--train-steps", type=int, default=10, help="training steps timed (0: skip)")
    parser.add_argument("--repeats", type=int, default=30, help="queries timed")
    parser.add_argument("--pytorch", action="store_true", help="also score dev on PyTorch")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {describe()}; load average {os.getloadavg()[0]:.1f} (1 min)")

    if args.train_steps:
        speed = training_speed(args.data / "train.tsv.gz", args.train_steps)
        print(f"training: {speed:.1f} pairs/s (verifier recipe, {args.train_steps} steps of 32 pairs)")

    metrics = json.loads((args.verifier / "metrics.json").read_text())
    dev, train = metrics["dev"], metrics["train"]
    print(
        f"trained verifier: dev accuracy {dev['accuracy']:.4f} at threshold {dev['threshold']:.3f}, "
        f"ROC-AUC {dev['roc_auc']:.4f}, ECE {metrics['calibration']['ece_after']:.4f} "
        f"(temperature {metrics['calibration']['temperature']:.3f}) on {dev['n_pairs']:,} dev pairs; "
        f"trained {train['seconds'] / 60:.1f} min, {metrics['history'][-1]['pairs_per_s']:.1f} pairs/s, "
        f"{train['steps'] * metrics['config']['batch_size']:,} examples"
    )

    pairs = read_pairs(args.data / "dev.tsv")[0][: args.dev_pairs]
    evaluator = PairEvaluator(pairs, name="dev")
    torch_verifier = Verifier.load(args.verifier)
    export_onnx(torch_verifier, args.verifier, int8=True)
    onnx_float = OnnxVerifier.load(args.verifier, threads=args.threads)
    onnx_int8 = OnnxVerifier.load(args.verifier, int8=True, threads=args.threads)
    print(
        f"on the first {len(pairs):,} dev pairs; sizes: model.safetensors "
        f"{(args.verifier / 'model.safetensors').stat().st_size / 1e6:.1f} MB, model.onnx "
        f"{graph_size(args.verifier) / 1e6:.1f} MB, model.int8.onnx {graph_size(args.verifier, True) / 1e6:.1f} MB"
    )
    runtimes = [("onnx float", onnx_float), ("onnx int8", onnx_int8)]
    if args.pytorch:
        runtimes.insert(0, ("pytorch", torch_verifier))
    else:
        print(
            "(PyTorch gives ONNX float's probabilities to 1e-4: tests/verify/test_onnx.py; --pytorch to time it)"
        )
    for name, scorer in runtimes:
        dev_figures(name, scorer, evaluator)

    shipped = Siamese.load()
    for q1, q2, label in SHOWCASE:
        p = float(onnx_float.score([q1], [q2])[0])
        cosine = float(shipped.similarity([q1], [q2])[0])
        print(
            f"{q1!r} / {q2!r} (duplicate: {bool(label)}): verifier {p:.4f} → {p > onnx_float.threshold}; "
            f"shipped bi-encoder {cosine:.4f} → {cosine > shipped.threshold}"
        )

    questions = list(dict.fromkeys(q for p in pairs for q in (p.question1, p.question2)))
    index = DuplicateIndex(shipped)
    index.add([str(i) for i in range(len(questions))], questions)
    asked = [p.question1 for p in pairs[: args.repeats]]
    for name, scorer in (("none", None), ("onnx float", onnx_float), ("onnx int8", onnx_int8)):
        print(
            f"index query k=10 over {len(index):,} questions, verifier {name}: p50 {query_latency(index, asked, scorer, args.repeats):.1f} ms"
        )
    q1, q2 = [p.question1 for p in pairs], [p.question2 for p in pairs]
    start = time.perf_counter()
    shipped.similarity(q1, q2)
    print(f"bi-encoder (shipped): {len(pairs) / (time.perf_counter() - start):,.0f} pairs/s")
    for name, scorer in (("onnx float", onnx_float), ("onnx int8", onnx_int8)):
        start = time.perf_counter()
        scorer.score(q1, q2, batch_size=64)
        print(f"verifier {name}: {len(pairs) / (time.perf_counter() - start):,.0f} pairs/s in batches of 64")


if __name__ == "__main__":
    main()
