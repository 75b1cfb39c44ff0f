"""What a run writes down: each epoch's record, the best model's metrics and the run's figures."""

from __future__ import annotations

import resource
from dataclasses import asdict, dataclass

from siamdup.data.readers import ReadReport
from siamdup.training.checkpoints import RunState
from siamdup.training.settings import TrainConfig


@dataclass
class EpochResult:
    """What one epoch's training pass did."""

    pairs: int = 0
    loss_sum: float = 0.0
    batches: int = 0
    seconds: float = 0.0
    stopped_by_time: bool = False


def report_record(report: ReadReport) -> dict:
    """A read report as JSON data. `asdict` alone would rebuild its skip Counter from (reason, count)
    pairs, counting the pairs themselves: tuple keys, which JSON cannot hold."""
    return {**asdict(report), "skipped": dict(report.skipped)}


def epoch_record(epoch: int, result: EpochResult, dev: dict) -> dict:
    return {
        "epoch": epoch,
        "train_loss": result.loss_sum / max(1, result.batches),
        "dev_accuracy": dev["accuracy"],
        "dev_threshold": dev["threshold"],
        "dev_roc_auc": dev["roc_auc"],
        "dev_accuracy_at_0.7": dev["at_default_threshold"]["accuracy"],
        "pairs_per_s": result.pairs / result.seconds,
        "seconds": result.seconds,
    }


def epoch_line(record: dict) -> str:
    return (
        f"epoch {record['epoch']}: loss {record['train_loss']:.4f}  dev accuracy {record['dev_accuracy']:.4f} "
        f"at τ={record['dev_threshold']:.3f} (at 0.7: {record['dev_accuracy_at_0.7']:.4f})  "
        f"AUC {record['dev_roc_auc']:.4f}  {record['pairs_per_s']:,.0f} pairs/s"
    )


def run_figures(state: RunState) -> dict:
    """Throughput and peak memory of the run so far, as recorded in metrics.json."""
    return {
        "train": {
            "pairs_per_s": state.pairs_seen / max(state.train_seconds, 1e-9),
            "seconds": state.train_seconds,
            "steps": state.step,
        },
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux reports KiB
    }


def best_metrics(dev: dict, epoch: int, state: RunState, config: TrainConfig, data: dict) -> dict:
    """metrics.json of the model saved at `epoch`; `data`: the read reports of the train and dev files."""
    return {
        "dev": dev,
        "best_epoch": epoch,
        **run_figures(state),
        "config": asdict(config),
        "data": data,
        "history": state.history,
    }
