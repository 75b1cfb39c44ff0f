"""What every benchmark shares: the machine it ran on (printed with its numbers so they can be compared
fairly), and the start of its command line."""

from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path

import torch


def describe() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        mem = "RAM unknown"
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem}, {gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )


def benchmark_parser(description: str | None) -> argparse.ArgumentParser:
    """A parser showing the script's docstring as help, with `--data`, the QQP folder every benchmark reads."""
    # Run as a module, argparse would name the file alone ("recipes.py") in the usage line.
    main_spec = getattr(sys.modules["__main__"], "__spec__", None)
    parser = argparse.ArgumentParser(
        prog=f"python -m {main_spec.name}" if main_spec else None,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data", type=Path, default=Path("../shared/data/qqp"), help="folder with train.tsv.gz and dev.tsv"
    )
    return parser
