"""Encoding speed on PyTorch against ONNX Runtime, side by side in one run, at 1 and 2 threads.

    python -m benchmarks.speed.onnx_encode --data ../shared/data/qqp [--model DIR] [--threads 1 2]

The model (default: the shipped one) is exported with `siamdup.model.onnx_export.export_onnx` into a
temporary directory, then loaded twice from it: runtime "torch" and runtime "onnx" (`encoder.onnx` on ONNX
Runtime's CPU provider, its intra-op threads set to the row's thread count; PyTorch's set with
`torch.set_num_threads`). Both encode from raw text through `Siamese.encode` (tokenizer included, questions
sorted by length into batches of 512): questions/s over the distinct dev questions (the best of three
passes), and one question at a time (p50 and p90 of 500). The largest difference between the two runtimes'
vectors is printed too. The load average before and after is printed with the machine: on a shared machine
the figures are those of that load, not of an idle one.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.machine import benchmark_parser, describe
from benchmarks.peers.common import best_seconds
from siamdup import Siamese
from siamdup.data.readers import read_pairs
from siamdup.model.onnx_export import export_onnx


def dev_questions(data: Path) -> list[str]:
    pairs, _ = read_pairs(data / "dev.tsv")
    return list(dict.fromkeys(q for p in pairs for q in (p.question1, p.question2)))


def single_ms(model: Siamese, questions: list[str]) -> tuple[float, float]:
    """p50 and p90 milliseconds of encoding one question, after a warm-up on 20."""
    for q in questions[:20]:
        model.encode([q])
    times = []
    for q in questions:
        start = time.perf_counter()
        model.encode([q])
        times.append(time.perf_counter() - start)
    p50, p90 = np.percentile(times, [50, 90])
    return 1000 * float(p50), 1000 * float(p90)


def measure(model: Siamese, questions: list[str], singles: int, repeats: int) -> dict:
    model.encode(questions[:2048])  # warm-up: allocations, ONNX Runtime's first run
    per_s = len(questions) / best_seconds(lambda: model.encode(questions, batch_size=512), repeats)
    p50, p90 = single_ms(model, questions[:singles])
    return {"per_s": per_s, "p50": p50, "p90": p90}


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: shipped)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts to time")
    parser.add_argument("--singles", type=int, default=500, help="questions timed one at a time")
    parser.add_argument("--repeats", type=int, default=3, help="batched passes; the best one counts")
    args = parser.parse_args()
    questions = dev_questions(args.data)
    before = load_average()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        export_onnx(Siamese.load(args.model), Path(tmp) / "model")
        export_s = time.perf_counter() - start
        graph_mb = (Path(tmp) / "model" / "encoder.onnx").stat().st_size / 1e6
        reference = Siamese.load(Path(tmp) / "model", runtime="torch")
        sample = questions[:5000]
        for threads in args.threads:
            torch.set_num_threads(threads)
            onnx = Siamese.load(Path(tmp) / "model", runtime="onnx", threads=threads)
            difference = float(np.abs(onnx.encode(sample) - reference.encode(sample)).max())
            for name, model in (("PyTorch", reference), ("ONNX Runtime", onnx)):
                rows.append(
                    {
                        "runtime": name,
                        "threads": threads,
                        **measure(model, questions, args.singles, args.repeats),
                    }
                )
            rows[-1]["difference"] = difference
    print(f"machine: {describe()}")
    print(f"load average (1, 5, 15 min): {before} before, {load_average()} after")
    c = reference.encoder.config
    print(
        f"model: {args.model or 'shipped'} ({c.num_layers}-layer {'Bi' if c.bidirectional else ''}LSTM, "
        f"{reference.dim} outputs); export {export_s:.1f} s, encoder.onnx {graph_mb:.1f} MB; "
        f"{len(questions):,} distinct dev questions\n"
    )
    print(
        "| runtime | threads | questions/s from text, batches of 512 | one question p50 | p90 | max |Δ| to PyTorch |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        diff = f"{r['difference']:.1e}" if "difference" in r else "—"
        print(
            f"| {r['runtime']} | {r['threads']} | {r['per_s']:,.0f} | {r['p50']:.2f} ms | {r['p90']:.2f} ms | {diff} |"
        )


if __name__ == "__main__":
    main()
