"""Training a `SignatureModel` on SVC2004 writers: writer-disjoint batches, each writer's skilled
forgeries as its hard negatives, the best epoch by dev-writer skilled-forgery EER, `resume` and a time
budget. The structure follows `siamdup.training.loop` for text.

A batch takes distinct writers (never one twice, the rule of duplicate clusters): per writer an anchor
and a positive genuine signature and `forgeries` of its skilled forgeries. Every other cell of the batch
similarity matrix is then a non-match: other writers' genuine ones and every forgery.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from safetensors.torch import load_file, save_file

from siamdup.losses import InBatchSoftmaxLoss, MinedTripletLoss
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.tuning import fuse_on_dev, tune_on_dev
from siamdup.storage import atomic_directory, recover
from siamdup.training.checkpoints import load_optimizer_state, optimizer_state_tensors
from siamdup.trajectory.augment import augment
from siamdup.trajectory.features import feature_batch
from siamdup.trajectory.svc2004 import SignatureRecord

# Each channel z-normalised over its signature: the shape of the writing, not its scale, which varies
# more between writers than a model trained on a few dozen of them can learn to ignore.
LEARNED_CHANNELS = ("vx", "vy", "speed", "cos", "sin", "curvature", "pressure", "pen_down")
CHECKPOINT = "checkpoint"
TRAINER_STATE = "trainer_state.json"
LOSSES = ("softmax", "triplet")


@dataclass
class SignatureTrainSettings:
    epochs: int = 40
    steps_per_epoch: int = 30
    writers_per_batch: int = 20  # capped at the number of training writers
    forgeries_per_writer: int = 8
    learning_rate: float = 1e-3
    loss: str = "softmax"
    scale: float = 30.0  # softmax temperature
    margin: float = 0.25  # triplet margin
    d_model: int = 64
    num_layers: int = 1
    bidirectional: bool = True
    dropout: float = 0.1
    length: int = 128
    channels: tuple[str, ...] = field(default_factory=lambda: LEARNED_CHANNELS)
    standardise: bool = True  # z-normalise each feature channel over the signature
    augment: bool = True
    schedule: str = "constant"  # or "cosine": from the set rate down to 0 at the last epoch
    fusion: bool = True  # the best epoch's decision rule fuses its score with DTW (weight tuned on dev)
    seed: int = 0
    max_minutes: float | None = None

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"unknown schedule {self.schedule!r}: use cosine or constant")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}: use {' or '.join(LOSSES)}")

    def model_settings(self) -> dict:
        keys = ("d_model", "num_layers", "bidirectional", "dropout", "length", "channels", "standardise")
        return {k: getattr(self, k) for k in keys}


@dataclass
class SignatureRunState:
    epoch: int = 0
    best: dict = field(default_factory=lambda: {"skilled_eer": 2.0, "epoch": 0})
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0


def train_signatures(
    records: list[SignatureRecord],
    train_writers: list[int],
    dev_writers: list[int],
    out: Path,
    settings: SignatureTrainSettings,
    *,
    resume: bool = False,
    console: Console | None = None,
) -> dict:
    """Train, keep the best epoch in `out` (with τ and scoring tuned on `dev_writers`); return metrics."""
    if set(train_writers) & set(dev_writers):
        raise ValueError(f"writers {sorted(set(train_writers) & set(dev_writers))} are in train and dev")
    torch.manual_seed(settings.seed)
    model = SignatureModel.untrained(settings.seed, **settings.model_settings())
    optimizer = torch.optim.AdamW(model.encoder.parameters(), lr=settings.learning_rate)
    state = SignatureRunState()
    if resume:
        state = _load_checkpoint(out / CHECKPOINT, model, optimizer)
    by_writer = _group(records, train_writers)
    dev_records = [r for r in records if r.writer in set(dev_writers)]
    started = time.perf_counter() - state.train_seconds
    while state.epoch < settings.epochs:
        if settings.max_minutes is not None and state.train_seconds >= settings.max_minutes * 60:
            break
        epoch = state.epoch + 1
        loss = _train_epoch(model, optimizer, by_writer, settings, epoch, console)
        dev = tune_on_dev(model, dev_records, dev_writers, seed=settings.seed)
        state.epoch = epoch
        state.train_seconds = time.perf_counter() - started
        state.history.append({"epoch": epoch, "loss": loss, **dev})
        if console is not None:
            console.print(
                f"epoch {epoch}: loss {loss:.4f}, dev skilled EER {dev['skilled_eer']:.2%}, "
                f"random EER {dev['random_eer']:.2%} ({dev['aggregation']}, {dev['normalisation']})"
            )
        if (dev["skilled_eer"], dev["random_eer"]) < (
            state.best["skilled_eer"],
            state.best.get("random_eer", 2),
        ):
            state.best = {"epoch": epoch, **dev}
            _save_best(model, out, dev, train_writers, dev_writers, settings, state)
        _save_checkpoint(out / CHECKPOINT, model, optimizer, settings, state, train_writers, dev_writers)
    if settings.fusion and (out / "config.json").exists() and "fused" not in state.best:
        _fuse_best(out, dev_records, dev_writers, settings, state)
    metrics = _metrics(state, train_writers, dev_writers, settings)
    if (out / "config.json").exists():
        with atomic_directory(out) as staging:
            (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def _fuse_best(out: Path, dev_records, dev_writers, settings, state: SignatureRunState) -> None:
    """Give the best epoch's model its decision rule fused with DTW, tuned on the dev writers."""
    model = SignatureModel.load(out)
    state.best["fused"] = fuse_on_dev(model, dev_records, dev_writers, seed=settings.seed)
    model.metadata["threshold_source"] = (
        f"skilled-forgery EER point of the fused score on dev writers {_ranges(dev_writers)}"
    )
    with atomic_directory(out) as staging:
        model.save_files(staging)


def writer_batches(
    by_writer: dict[int, tuple[list[SignatureRecord], list[SignatureRecord]]],
    settings: SignatureTrainSettings,
    rng: np.random.Generator,
) -> list[tuple[list[SignatureRecord], list[SignatureRecord], list[SignatureRecord]]]:
    """One epoch of (anchors, positives, negatives); no writer appears twice in a batch."""
    writers = sorted(by_writer)
    per_batch = min(settings.writers_per_batch, len(writers))
    batches = []
    for _ in range(settings.steps_per_epoch):
        chosen = rng.choice(writers, per_batch, replace=False)
        anchors: list[SignatureRecord] = []
        positives: list[SignatureRecord] = []
        negatives: list[SignatureRecord] = []
        for w in chosen:
            genuine, forged = by_writer[int(w)]
            a, p = rng.choice(len(genuine), 2, replace=False)
            anchors.append(genuine[a])
            positives.append(genuine[p])
            k = min(settings.forgeries_per_writer, len(forged))
            negatives.extend(forged[i] for i in rng.choice(len(forged), k, replace=False))
        batches.append((anchors, positives, negatives))
    return batches


def learning_rate(settings: SignatureTrainSettings, epoch: int, step: int) -> float:
    """The rate of `step` of `epoch` (from 1): constant, or a cosine from the set rate down to 0 over
    all the epochs, so the last epochs settle instead of jumping between writers' batches."""
    if settings.schedule == "constant":
        return settings.learning_rate
    done = ((epoch - 1) * settings.steps_per_epoch + step) / (settings.epochs * settings.steps_per_epoch)
    return settings.learning_rate * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))


def _group(records: list[SignatureRecord], writers: list[int]) -> dict:
    by_writer: dict[int, tuple[list, list]] = {w: ([], []) for w in writers}
    for r in records:
        if r.writer in by_writer:
            by_writer[r.writer][0 if r.genuine else 1].append(r)
    short = [w for w, (g, _) in by_writer.items() if len(g) < 2]
    if short:
        raise ValueError(f"training writers {short} have fewer than 2 genuine signatures")
    return by_writer


def _train_epoch(model, optimizer, by_writer, settings, epoch: int, console: Console | None) -> float:
    rng = np.random.default_rng([settings.seed, epoch])
    torch.manual_seed(settings.seed * 100_003 + epoch)
    loss_fn = (
        InBatchSoftmaxLoss(scale=settings.scale)
        if settings.loss == "softmax"
        else MinedTripletLoss(margin=settings.margin, reduction="mean")
    )
    model.encoder.train()
    batches = writer_batches(by_writer, settings, rng)
    total = 0.0
    columns = (TextColumn(f"epoch {epoch:<4}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=console is None, transient=True) as progress:
        task = progress.add_task("train", total=len(batches))
        for step, (anchors, positives, negatives) in enumerate(batches):
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(settings, epoch, step)
            trajectories = [r.trajectory for r in anchors + positives + negatives]
            if settings.augment:
                trajectories = [augment(t, rng) for t in trajectories]
            steps = torch.from_numpy(feature_batch(trajectories, model.features))
            vectors = model.encoder(steps)
            b = len(anchors)
            loss = loss_fn(vectors[:b], vectors[b : 2 * b], vectors[2 * b :])
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.encoder.parameters(), 1.0)
            optimizer.step()
            total += float(loss.detach())
            progress.advance(task)
    model.encoder.eval()
    return total / max(len(batches), 1)


def _save_best(model, out, dev, train_writers, dev_writers, settings, state) -> None:
    model.threshold = dev["threshold"]
    model.aggregation = dev["aggregation"]
    model.normalisation = dev["normalisation"]
    model.metadata = {
        "threshold_source": f"skilled-forgery EER point on dev writers {_ranges(dev_writers)}",
        "train_writers": list(train_writers),
        "dev_writers": list(dev_writers),
    }
    model.save(out, extra_files={"metrics.json": _metrics(state, train_writers, dev_writers, settings)})


def _metrics(state, train_writers, dev_writers, settings) -> dict:
    return {
        "best": state.best,
        "history": state.history,
        "epochs_run": state.epoch,
        "train_seconds": round(state.train_seconds, 1),
        "train_writers": list(train_writers),
        "dev_writers": list(dev_writers),
        "settings": _settings_dict(settings),
    }


def _settings_dict(settings: SignatureTrainSettings) -> dict:
    d = asdict(settings)
    d["channels"] = list(settings.channels)
    return d


def _save_checkpoint(checkpoint, model, optimizer, settings, state, train_writers, dev_writers) -> None:
    trainer_state = {
        "settings": _settings_dict(settings),
        "train_writers": list(train_writers),
        "dev_writers": list(dev_writers),
        **asdict(state),
    }
    with atomic_directory(checkpoint) as staging:
        model.save_files(staging)
        tensors, meta = optimizer_state_tensors(optimizer)
        save_file(tensors, str(staging / "optimizer.safetensors"))
        (staging / "optimizer.json").write_text(json.dumps(meta))
        (staging / TRAINER_STATE).write_text(json.dumps(trainer_state, indent=2))


def read_signature_trainer_state(checkpoint: Path) -> dict:
    """The saved settings, writers and progress of the run to resume."""
    recover(checkpoint)
    if not (checkpoint / TRAINER_STATE).exists():
        raise FileNotFoundError(f"nothing to resume: {checkpoint} holds no training state")
    return json.loads((checkpoint / TRAINER_STATE).read_text())


def _load_checkpoint(checkpoint: Path, model: SignatureModel, optimizer) -> SignatureRunState:
    saved = read_signature_trainer_state(checkpoint)
    model.encoder.load_state_dict(load_file(str(checkpoint / "model.safetensors")))
    meta = json.loads((checkpoint / "optimizer.json").read_text())
    load_optimizer_state(optimizer, load_file(str(checkpoint / "optimizer.safetensors")), meta)
    return SignatureRunState(**{k: saved[k] for k in asdict(SignatureRunState()) if k in saved})


def _ranges(writers: list[int]) -> str:
    return ",".join(str(w) for w in sorted(writers))
