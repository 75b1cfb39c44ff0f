"""Train the image encoder on Omniglot's background characters: one loop, top to bottom, like text training.

Each epoch runs class-disjoint batches of drawing pairs (batches.py), distorted at random (augment.py),
through the in-batch softmax or mined triplet loss of `siamdup.losses`, then scores 20-way one-shot runs drawn
from the validation alphabets. With those alphabets held out, the best epoch by that accuracy is saved to
`out`; trained on as well, the last epoch is. τ is tuned on the same runs' pairs; `out/checkpoint/` holds the
latest state for `resume`. The standard evaluation runs are never read here.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from siamdup.image.augment import random_affine, rotated_classes
from siamdup.image.batches import batches_per_epoch, class_disjoint_batches
from siamdup.image.model import ImageModel
from siamdup.image.omniglot import Characters, OneShotRun, load_background
from siamdup.image.one_shot import accuracy_from_scores, make_runs, run_scores
from siamdup.image.settings import ImageTrainConfig
from siamdup.image.views import VIEW_SETS
from siamdup.losses import InBatchSoftmaxLoss, MinedTripletLoss
from siamdup.metrics import best_threshold
from siamdup.storage import atomic_directory, recover
from siamdup.training.checkpoints import load_optimizer_state, optimizer_state_tensors

CHECKPOINT = "checkpoint"
TRAINER_STATE = "trainer_state.json"


@dataclass
class ImageRunState:
    """How far a run has got; saved in the checkpoint's trainer_state.json."""

    epoch: int = 0
    step: int = 0
    best: dict = field(default_factory=lambda: {"accuracy": -1.0, "epoch": 0})
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class ImageRun:
    """What stays fixed through a run's epochs."""

    config: ImageTrainConfig
    images: torch.Tensor  # (classes, drawings, size, size)
    validation: list[OneShotRun]
    model: ImageModel
    optimizer: torch.optim.Optimizer
    loss_fn: nn.Module
    console: Console

    @property
    def total_steps(self) -> int:
        c, k = self.images.shape[:2]
        return self.config.epochs * batches_per_epoch(c, k, self.config.classes_per_batch)


def training_data(background: Characters, config: ImageTrainConfig) -> tuple[torch.Tensor, list[OneShotRun]]:
    """The training classes (with their rotations when asked) and the validation runs, alphabet-disjoint."""
    held_out = set(config.validation_alphabets)
    unknown = held_out - set(background.alphabets)
    if unknown:
        raise ValueError(
            f"validation alphabet(s) {', '.join(sorted(unknown))} not in the background data "
            f"(it has {', '.join(background.alphabets)})"
        )
    validation = make_runs(background.select(held_out), config.validation_runs, config.ways, seed=config.seed)
    training = background.select(held_out, keep=False) if config.hold_out else background
    images = torch.from_numpy(training.images)
    return (rotated_classes(images) if config.rotations else images), validation


def validate(model: ImageModel, runs: list[OneShotRun]) -> dict:
    """One-shot accuracy on the validation runs, and the τ of best F1 at telling their same-character pairs
    from the different ones (one same pair in `ways` makes accuracy favour "different" throughout)."""
    scores, answers = run_scores(runs, model.embed)
    labels = (np.arange(scores.shape[2]) == answers[..., None]).astype(int)
    threshold, pair_f1 = best_threshold(labels.ravel(), scores.ravel(), metric="f1")
    return {
        "accuracy": accuracy_from_scores(scores, answers),
        "threshold": float(threshold),
        "pair_f1": float(pair_f1),
        "trials": int(answers.size),
    }


def lr_at(step: int, total_steps: int, lr: float, time_used: float) -> float:
    """Cosine decay from `lr` to 0 by the last step or the end of the time budget, whichever comes first."""
    progress = step / max(1, total_steps)
    if time_used > progress:
        progress = time_used
    return lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train_images(
    data: str | Path,
    out: str | Path,
    config: ImageTrainConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
    console: Console | None = None,
) -> dict:
    """Train on the background characters of the Omniglot folder `data`; keep the best epoch in `out`.

    A directory that already holds a model is only written to with `resume` (continue it with its saved
    settings) or `overwrite`. Returns the metrics also saved as out/metrics.json.
    """
    console = console or Console(stderr=True)
    out = Path(out)
    checkpoint = out / CHECKPOINT
    if not (resume or overwrite) and ((out / "config.json").exists() or checkpoint.exists()):
        raise FileExistsError(
            f"{out} already holds a model: resume it, overwrite it, or choose another output"
        )
    saved = read_trainer_state(checkpoint) if resume else {}
    config = ImageTrainConfig.from_dict(saved["config"]) if resume else (config or ImageTrainConfig())
    config.check()
    run = start_run(Path(data), config, checkpoint if resume else None, console)
    state = ImageRunState(**{k: v for k, v in saved.items() if k in ImageRunState.__dataclass_fields__})
    budget = 60 * config.max_minutes if config.max_minutes else math.inf
    for epoch in range(state.epoch + 1, config.epochs + 1):
        if state.train_seconds >= budget:
            break
        loss = train_epoch(run, state, epoch, budget)
        record = {
            "epoch": epoch,
            "loss": loss,
            "seconds": round(state.train_seconds, 1),
            **validate(run.model, run.validation),
        }
        state.history.append(record)
        console.print(
            f"epoch {epoch}: loss {loss:.4f}, validation 20-way {record['accuracy']:.4f}, "
            f"τ {record['threshold']:.3f}, {state.train_seconds:.0f} s"
        )
        if record["accuracy"] > state.best["accuracy"] or not config.hold_out:
            state.best = {"accuracy": record["accuracy"], "epoch": epoch, "threshold": record["threshold"]}
            save_best(run, out, record, Path(data))
        state.epoch = epoch
        save_checkpoint(checkpoint, run, state, Path(data))
        if config.hold_out and epoch - state.best["epoch"] >= config.patience:
            console.print(f"No validation gain for {config.patience} epochs: stopping early")
            break
    if state.train_seconds >= budget:
        console.print(f"Time budget of {config.max_minutes} min reached: stopped")
    metrics = finish_metrics(out, state)
    console.print(
        f"Best validation 20-way accuracy {state.best['accuracy']:.4f} (epoch {state.best['epoch']}), saved to {out}"
    )
    return metrics


def start_run(data: Path, config: ImageTrainConfig, checkpoint: Path | None, console: Console) -> ImageRun:
    """Read the background data and build the model, loss and optimiser; from `checkpoint` when resuming."""
    torch.manual_seed(config.seed)
    images, validation = training_data(load_background(data, config.size, tuple(config.splits)), config)
    console.print(
        f"{images.shape[0]:,} training classes × {images.shape[1]} drawings "
        f"({', '.join(config.splits)}); {len(validation)} validation runs from {', '.join(config.validation_alphabets)}"
    )
    model = ImageModel.untrained(config.encoder_config(), seed=config.seed)
    model.views = VIEW_SETS[config.views]
    optimizer = torch.optim.AdamW(model.encoder.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    loss_fn: nn.Module = (
        InBatchSoftmaxLoss(scale=config.scale)
        if config.loss == "softmax"
        else MinedTripletLoss(margin=config.margin, reduction="mean")
    )
    if checkpoint is not None:
        from safetensors.torch import load_file

        model.encoder.load_state_dict(load_file(str(checkpoint / "model.safetensors")))
        meta = json.loads((checkpoint / "optimizer.json").read_text())
        load_optimizer_state(optimizer, load_file(str(checkpoint / "optimizer.safetensors")), meta)
    return ImageRun(config, images, validation, model, optimizer, loss_fn, console)


def train_epoch(run: ImageRun, state: ImageRunState, epoch: int, budget: float) -> float:
    """One pass over the epoch's batches, cut short when the time budget is spent; returns the mean loss."""
    config, encoder = run.config, run.model.encoder
    n_classes, n_drawings = run.images.shape[:2]
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    encoder.train()
    start, cpu_start, losses = time.perf_counter(), time.process_time(), []
    total = batches_per_epoch(n_classes, n_drawings, config.classes_per_batch)
    columns = (
        TextColumn(f"epoch {epoch}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("loss {task.fields[loss]:.4f}"),
    )
    with Progress(*columns, console=run.console, transient=False) as progress:
        task = progress.add_task("train", total=total, loss=0.0)
        for rows in class_disjoint_batches(
            n_classes, n_drawings, config.classes_per_batch, config.seed, epoch
        ):
            time_used = (state.train_seconds + time.perf_counter() - start) / budget
            for group in run.optimizer.param_groups:
                group["lr"] = lr_at(state.step, run.total_steps, config.lr, time_used)
            losses.append(train_step(run, rows, generator))
            state.step += 1
            progress.update(task, advance=1, loss=float(np.mean(losses)))
            if state.train_seconds + time.perf_counter() - start >= budget:
                break
    state.train_seconds += time.perf_counter() - start
    state.cpu_seconds += time.process_time() - cpu_start
    return float(np.mean(losses)) if losses else math.nan


def train_step(run: ImageRun, rows: np.ndarray, generator: torch.Generator) -> float:
    """One optimiser step on a batch of (class, drawing a, drawing b) rows."""
    classes = torch.from_numpy(rows[:, 0])
    images = torch.cat(
        [run.images[classes, torch.from_numpy(rows[:, 1])], run.images[classes, torch.from_numpy(rows[:, 2])]]
    )
    if run.config.augment:
        images = random_affine(images, generator)
    # Channels-last runs the CPU's convolutions about twice as fast at these small widths.
    vectors = run.model.encoder(images.unsqueeze(1).contiguous(memory_format=torch.channels_last))
    anchors, positives = vectors.split(len(rows))
    loss = run.loss_fn(anchors, positives)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    return float(loss.item())


def save_best(run: ImageRun, out: Path, record: dict, data: Path) -> None:
    """Save this epoch's model, the best so far, with τ from the validation pairs and its metrics."""
    run.model.threshold = record["threshold"]
    splits, watched = ", ".join(run.config.splits), ", ".join(run.config.validation_alphabets)
    seen = "" if run.config.hold_out else f" of {watched}, characters seen in training"
    run.model.metadata = {
        "threshold_source": f"F1-optimal on the pairs of {record['trials']} validation trials{seen}",
        "trained_on": f"Omniglot background {splits}"
        + (f" without {watched}" if run.config.hold_out else ", every alphabet"),
    }
    metrics = {
        "best_epoch": record["epoch"],
        "validation": record,
        "config": run.config.to_dict(),
        "data": str(data.resolve()),
    }
    run.model.save(out, extra_files={"metrics.json": metrics})


def read_trainer_state(checkpoint: Path) -> dict:
    recover(checkpoint)
    if not (checkpoint / TRAINER_STATE).exists():
        raise FileNotFoundError(f"nothing to resume: {checkpoint} holds no training state")
    return json.loads((checkpoint / TRAINER_STATE).read_text())


def save_checkpoint(checkpoint: Path, run: ImageRun, state: ImageRunState, data: Path) -> None:
    """Replace the checkpoint with this epoch's weights, optimiser and trainer state, all at once."""
    from safetensors.torch import save_file

    with atomic_directory(checkpoint) as staging:
        run.model.save_files(staging)
        tensors, meta = optimizer_state_tensors(run.optimizer)
        save_file(tensors, str(staging / "optimizer.safetensors"))
        (staging / "optimizer.json").write_text(json.dumps(meta))
        trainer_state = {**state.__dict__, "config": run.config.to_dict(), "data": str(data.resolve())}
        (staging / TRAINER_STATE).write_text(json.dumps(trainer_state, indent=2))


def finish_metrics(out: Path, state: ImageRunState) -> dict:
    """The best model's metrics.json with the whole run's history and times, saved again."""
    metrics = json.loads((out / "metrics.json").read_text())
    metrics.update(
        history=state.history,
        train_seconds=round(state.train_seconds, 1),
        cpu_seconds=round(state.cpu_seconds, 1),
        threads=torch.get_num_threads(),
    )
    with atomic_directory(out) as staging:
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
