"""Distributed training on CPU: two torchrun processes against one process, and gathered against local
negatives.

    python -m benchmarks.speed.ddp --data ../shared/data/qqp [--speed-minutes 1.5] [--accuracy-minutes 3]

Every run is a real `siamdup train` on the whole QQP train file (the default recipe, a 2-layer BiLSTM, 128
wide), launched in a child process:
- speed: 2 processes × 128 pairs (`torchrun --nproc-per-node 2`, gathered negatives, 1 thread each) against
  1 process × 256 pairs (2 threads, and 1 thread), the same 256 pairs a step and the same CPU cores; the
  figure is the training pairs/s of metrics.json (dev evaluation not counted), over `--speed-minutes` of
  training;
- accuracy: 2 × 128 with gathered negatives (255 a row) against `--local-negatives` (127 a row), each
  trained for `--accuracy-minutes` (the learning rate decays to its floor within the budget), judged by the
  dev accuracy at the τ tuned on dev.
The numbers are only comparable within one run: the cores may be shared with other work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.machine import benchmark_parser, describe

ROOT = Path(__file__).resolve().parents[2]
# name, processes, threads per process, pairs per process: the same 256 pairs a step on the same 2 cores
SPEED_RUNS = (("2 x 128", 2, 1, 128), ("1 x 256", 1, 2, 256), ("1 x 256, 1 thread", 1, 1, 256))


def siamdup_train(processes: int, threads: int, args: list[str], out: Path) -> dict:
    """Run `siamdup train` on `processes` processes (torchrun when more than one) and return its metrics."""
    if processes > 1:
        launch = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            f"--nproc-per-node={processes}",
        ]
    else:
        launch = [sys.executable]
    command = [*launch, "-m", "siamdup", "train", *args, "--out", str(out), "--overwrite"]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONPATH": str(ROOT / "src")}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    metrics = json.loads((out / "metrics.json").read_text())
    metrics["wall_seconds"] = time.perf_counter() - start
    return metrics


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--speed-minutes", type=float, default=1.5, help="training minutes of each speed run")
    parser.add_argument(
        "--accuracy-minutes", type=float, default=3.0, help="training minutes of each accuracy run"
    )
    args = parser.parse_args()
    data = ["--train", str(args.data / "train.tsv.gz"), "--dev", str(args.data / "dev.tsv")]
    print(describe())
    print("threads: OMP_NUM_THREADS per process, as each run's name says (2 x 128: 1 each; 1 x 256: 2)")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        speed = [*data, "--epochs", "1", "--max-minutes", str(args.speed_minutes)]
        for name, processes, threads, batch in SPEED_RUNS:
            m = siamdup_train(processes, threads, [*speed, "--batch-size", str(batch)], Path(tmp) / name)
            rows.append((f"speed {name}", m))
            print(
                f"{name}: {m['train']['pairs_per_s']:,.0f} pairs/s ({m['train']['steps']} steps)", flush=True
            )
        accuracy = [*data, "--max-minutes", str(args.accuracy_minutes), "--batch-size", "128"]
        for name, flag in (("gathered", "--gathered-negatives"), ("local", "--local-negatives")):
            m = siamdup_train(2, 1, [*accuracy, flag], Path(tmp) / name)
            rows.append((f"accuracy {name}", m))
            print(f"2 x 128, {name} negatives: dev accuracy {m['dev']['accuracy']:.4f}", flush=True)
    print()
    print("| run | pairs/s | steps | epochs | dev accuracy | dev ROC-AUC | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, m in rows:
        print(
            f"| {name} | {m['train']['pairs_per_s']:,.0f} | {m['train']['steps']} | {len(m['history'])} | "
            f"{m['dev']['accuracy']:.4f} | {m['dev']['roc_auc']:.4f} | {m['wall_seconds']:.0f} |"
        )


if __name__ == "__main__":
    main()
