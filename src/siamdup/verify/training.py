"""Train the verifier: `siamdup train --recipe verifier` (TrainConfig.encoder "cross").

The same run as the Siamese loop's (`siamdup.training.loop`): a progress bar, a time budget the learning
rate anneals by, a dev evaluation after each epoch, the best epoch saved to `out` with its threshold tuned on
dev, and `out/checkpoint/` for `--resume` (`siamdup.training.checkpoints`). What differs is the step: a
batch is labelled pairs read together (both orders, none leaking from dev; `pairs`), and the loss is binary
cross-entropy on the duplicate logit. After each epoch a temperature is fitted on dev (`calibration`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import Progress
from torch import nn

from siamdup.data.readers import read_pairs
from siamdup.evaluate import PairEvaluator
from siamdup.metrics import best_threshold, threshold_report
from siamdup.model.precision import bf16_supported
from siamdup.model.siamese import pick_device
from siamdup.training.checkpoints import (
    CHECKPOINT,
    RunState,
    load_checkpoint,
    save_best,
    save_checkpoint,
    update_metrics,
)
from siamdup.training.loop import progress_columns
from siamdup.training.records import (
    EpochResult,
    best_metrics,
    epoch_line,
    epoch_record,
    report_record,
    run_figures,
)
from siamdup.training.schedule import budget_seconds, lr_at
from siamdup.training.settings import TrainConfig
from siamdup.verify.building import new_verifier
from siamdup.verify.calibration import calibrate
from siamdup.verify.cross_encoder import pair_inputs
from siamdup.verify.extra import require_verify_extra
from siamdup.verify.model import Verifier
from siamdup.verify.pairs import Examples, both_orders, epoch_batches, without_leaks
from siamdup.verify.scoring import sigmoid


@dataclass
class VerifierRun:
    """What stays fixed through a run's epochs."""

    config: TrainConfig
    examples: Examples
    evaluator: PairEvaluator
    reports: dict
    verifier: Verifier
    optimizer: torch.optim.Optimizer
    positive_weight: float  # of a duplicate's loss, so that both classes weigh alike (pair_balanced)
    use_bf16: bool
    console: Console

    @property
    def batches_per_epoch(self) -> int:
        return -(-len(self.examples) // self.config.batch_size)


def train_verifier(
    train_path: str | Path,
    dev_path: str | Path,
    out: Path,
    config: TrainConfig,
    saved: dict,
    device: str | None,
    console: Console,
    on_epoch: Callable[[dict], None] | None = None,
) -> dict:
    """Train, keep the best verifier in `out`, return its metrics; `saved`: the trainer state to resume
    (empty for a new run). Called by `siamdup.training.loop.train`, which checks `out` first."""
    require_verify_extra()
    torch.manual_seed(config.seed)
    checkpoint = out / CHECKPOINT
    run = start_verifier_run(
        train_path, dev_path, config, pick_device(device), checkpoint if saved else None, console
    )
    state = RunState.from_saved(saved)
    paths = {"train": str(Path(train_path).resolve()), "dev": str(Path(dev_path).resolve())}
    for epoch in range(state.epoch + 1, config.epochs + 1):
        if 0 < state.train_seconds >= budget_seconds(config):
            console.print(f"Time budget of {config.max_minutes} min reached: stopping")
            break
        result = train_epoch(run, state, epoch)
        dev, calibration = evaluate(run)
        record = {**epoch_record(epoch, result, dev), "dev_ece": calibration["ece_after"]}
        state.history.append(record)
        console.print(epoch_line(record) + f"  ECE {calibration['ece_after']:.4f}")
        if dev["accuracy"] > state.best["accuracy"]:
            state.best = {"accuracy": dev["accuracy"], "epoch": epoch, "threshold": dev["threshold"]}
            run.verifier.temperature = calibration["temperature"]
            metrics = {**best_metrics(dev, epoch, state, config, run.reports), "calibration": calibration}
            save_best(run.verifier, out, dev, dev_path, metrics)
        state.epoch = epoch
        trainer_state = {**asdict(state), "config": asdict(config), "paths": paths}
        save_checkpoint(checkpoint, run.verifier, run.optimizer, trainer_state)
        if on_epoch:
            on_epoch(record)
        if result.stopped_by_time:
            console.print(f"Time budget of {config.max_minutes} min reached: stopping")
            break
        if epoch - state.best["epoch"] >= config.patience:
            console.print(f"No dev improvement for {config.patience} epochs: stopping early")
            break
    metrics = update_metrics(out, {"history": state.history, **run_figures(state)})
    best = state.best
    console.print(
        f"Best dev accuracy {best['accuracy']:.4f} (epoch {best['epoch']}), verifier saved to {out}"
    )
    return metrics


def start_verifier_run(
    train_path: str | Path,
    dev_path: str | Path,
    config: TrainConfig,
    device: torch.device,
    checkpoint: Path | None,
    console: Console,
) -> VerifierRun:
    """Read the data (leaks from dev dropped) and build the verifier and optimiser; from `checkpoint` when
    resuming."""
    train_pairs, train_report = read_pairs(train_path)
    dev_pairs, dev_report = read_pairs(dev_path)
    console.print(train_report.summary())
    console.print(dev_report.summary())
    kept, leaks = without_leaks(train_pairs, dev_pairs)
    verifier = new_verifier(config.max_length, pretrained=checkpoint is None).to(device)
    examples = both_orders(kept, verifier.tokenizer)
    n_dup = examples.n_duplicates
    console.print(
        f"{len(kept):,} training pairs ({leaks:,} dropped: they ask what a dev pair asks), "
        f"{len(examples):,} examples in both orders, {n_dup:,} duplicates"
    )
    use_bf16 = config.bf16 and bf16_supported(device.type)
    if config.bf16 and not use_bf16:
        console.print(f"This {device.type} has no native bfloat16 arithmetic: training in float32 instead")
    params = [{"params": list(verifier.encoder.parameters()), "lr_ratio": 1.0}]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    run = VerifierRun(
        config=config,
        examples=examples,
        evaluator=PairEvaluator(dev_pairs, name="dev"),
        reports={
            "train": report_record(train_report),
            "dev": report_record(dev_report),
            "dev_leaks_dropped": leaks,
        },
        verifier=verifier,
        optimizer=optimizer,
        positive_weight=(len(examples) - n_dup) / max(1, n_dup) if config.pair_balanced else 1.0,
        use_bf16=use_bf16,
        console=console,
    )
    if checkpoint is not None:
        load_checkpoint(checkpoint, run.verifier, run.optimizer)
    return run


def train_epoch(run: VerifierRun, state: RunState, epoch: int) -> EpochResult:
    """One pass over the epoch's batches, cut short when the time budget is spent; advances `state`."""
    config, result, budget = run.config, EpochResult(), budget_seconds(run.config)
    batches = epoch_batches(run.examples, config.batch_size, config.seed, epoch)
    torch.manual_seed(config.seed * 1_000_003 + epoch)
    total_steps = config.epochs * run.batches_per_epoch
    run.verifier.encoder.train()
    start = time.perf_counter()
    with Progress(*progress_columns(), console=run.console, transient=False) as progress:
        task = progress.add_task("train", total=len(batches), epoch=epoch, loss=0.0, speed=0.0)
        for rows in batches:
            time_used = (state.train_seconds + time.perf_counter() - start) / budget if budget else 1.0
            lr = lr_at(state.step, total_steps, config, time_used)
            result.loss_sum += train_step(run, rows, lr)
            state.step += 1
            result.batches += 1
            result.pairs += len(rows)
            elapsed = time.perf_counter() - start
            progress.update(
                task, advance=1, loss=result.loss_sum / result.batches, speed=result.pairs / elapsed
            )
            if state.train_seconds + elapsed >= budget:
                result.stopped_by_time = True
                break
    result.seconds = time.perf_counter() - start
    state.train_seconds += result.seconds
    state.pairs_seen += result.pairs
    return result


def train_step(run: VerifierRun, rows: list[int], lr: float) -> float:
    """One optimiser step on the examples `rows` at learning rate `lr`; returns the batch's loss."""
    for group in run.optimizer.param_groups:
        group["lr"] = lr * group["lr_ratio"]
    examples, verifier = run.examples, run.verifier
    inputs = pair_inputs(
        [examples.first[i] for i in rows], [examples.second[i] for i in rows], verifier.encoder_config
    ).to(verifier.device)
    labels = torch.tensor([examples.labels[i] for i in rows], dtype=torch.float32, device=verifier.device)
    with torch.autocast(verifier.device.type, dtype=torch.bfloat16, enabled=run.use_bf16):
        logits = verifier.encoder.score_inputs(inputs)
    weight = torch.where(labels > 0, run.positive_weight, 1.0)
    loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), labels, weight=weight)
    loss = loss * 2 / (1 + run.positive_weight)  # the same scale as an unweighted mean over balanced classes
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(verifier.encoder.parameters(), run.config.clip_norm)
    run.optimizer.step()
    return loss.item()


def evaluate(run: VerifierRun) -> tuple[dict, dict]:
    """The dev report at the accuracy-optimal threshold of the calibrated probability, and the calibration."""
    evaluator = run.evaluator
    logits = run.verifier.logits(evaluator.q1, evaluator.q2)
    calibration = calibrate(evaluator.labels, logits)
    probabilities = sigmoid(logits.astype(np.float64) / calibration["temperature"])
    threshold, _ = best_threshold(evaluator.labels, probabilities, "accuracy")
    report = threshold_report(evaluator.labels, probabilities, threshold)
    report["name"] = evaluator.name
    return report, calibration
