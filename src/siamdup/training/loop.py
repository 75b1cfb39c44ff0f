"""Train a Siamese model on labelled question pairs: one loop, top to bottom, no framework.

Each epoch trains on batches of duplicate pairs (batches.py) and ends with a dev evaluation; the best model
(by dev accuracy at the τ tuned on dev) is saved to `out`, and `out/checkpoint/` holds the latest state for
`--resume` (checkpoints.py). Under torchrun, each process trains on its share of every batch and rank 0
evaluates and saves (distributed.py); a single process is the case of one rank.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from torch import nn

from siamdup.data.readers import read_pairs
from siamdup.data.sampler import ClusterDisjointBatchSampler
from siamdup.evaluate import PairEvaluator
from siamdup.losses import ContrastiveLoss
from siamdup.model.precision import bf16_supported
from siamdup.model.siamese import Siamese
from siamdup.model.transformer import import_transformers
from siamdup.pretrained import minilm_dir
from siamdup.training.batches import Batch, TrainingData, batch_share, make_batch, mine, prepare
from siamdup.training.checkpoints import (
    CHECKPOINT,
    RunState,
    holds_a_model,
    load_checkpoint,
    read_trainer_state,
    save_best,
    save_checkpoint,
    update_metrics,
)
from siamdup.training.components import make_encoder, make_loss, make_optimizer, make_tokenizer
from siamdup.training.distributed import GatheredLoss, Ranks, joined
from siamdup.training.records import (
    EpochResult,
    best_metrics,
    epoch_line,
    epoch_record,
    report_record,
    run_figures,
)
from siamdup.training.schedule import budget_seconds, lr_at
from siamdup.training.settings import TrainConfig, check_config


def train(
    train_path: str | Path,
    dev_path: str | Path,
    out: str | Path,
    config: TrainConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
    device: str | None = None,
    console: Console | None = None,
    on_epoch: Callable[[dict], None] | None = None,
    rank_timeout: float = 30.0,
) -> dict:
    """Train, keep the best model in `out`, and return its metrics (also saved as out/metrics.json).

    A directory that already holds a model is only written to with `resume` (continue it, with its saved
    settings) or `overwrite` (replace it). `on_epoch` is called with each epoch's record after its
    checkpoint is saved. Under torchrun, `rank_timeout` is how many minutes a process waits for the others
    (rank 0's dev evaluation included) before the run fails.
    """
    console = console or Console(stderr=True)
    out, checkpoint = Path(out), Path(out) / CHECKPOINT
    if not (resume or overwrite) and holds_a_model(out):
        raise FileExistsError(
            f"{out} already holds a model: resume it, overwrite it, or choose another output"
        )
    with joined(device, rank_timeout, out) as ranks:
        console = console if ranks.is_main else Console(quiet=True)
        with ranks.main_first():  # rank 0 completes an interrupted checkpoint save before the others read it
            saved = read_trainer_state(checkpoint) if resume else {}
        if resume:
            config = TrainConfig.from_dict(saved["config"])
            console.print(f"Resuming from {checkpoint} after epoch {saved['epoch']}")
        config = config or TrainConfig()
        if config.encoder == "cross":  # the verifier reads pairs together: its own step (siamdup.verify)
            if ranks.active:
                raise ValueError("the verifier recipe trains in one process: run it without torchrun")
            from siamdup.verify.training import train_verifier

            check_config(config)
            return train_verifier(train_path, dev_path, out, config, saved, device, console, on_epoch)
        check_ready(config)
        torch.manual_seed(config.seed)
        run = start_run(train_path, dev_path, config, ranks, checkpoint if resume else None, console)
        state = RunState.from_saved(saved)
        paths = {"train": str(Path(train_path).resolve()), "dev": str(Path(dev_path).resolve())}

        for epoch in range(state.epoch + 1, config.epochs + 1):
            if 0 < state.train_seconds >= budget_seconds(config):
                console.print(f"Time budget of {config.max_minutes} min reached: stopping")
                break
            result = train_epoch(run, state, epoch)
            dev = ranks.from_main(lambda: run.evaluator.tune(run.model))
            record = epoch_record(epoch, result, dev)
            state.history.append(record)
            console.print(epoch_line(record))
            save_epoch(run, state, epoch, dev, out, {"config": asdict(config), "paths": paths}, dev_path)
            if on_epoch:
                on_epoch(record)
            if result.stopped_by_time:
                console.print(f"Time budget of {config.max_minutes} min reached: stopping")
                break
            if epoch - state.best["epoch"] >= config.patience:
                console.print(f"No dev improvement for {config.patience} epochs: stopping early")
                break

        figures = {"history": state.history, **run_figures(state)}
        metrics = ranks.from_main(lambda: update_metrics(out, figures))
        # DistributedDataParallel keeps the process group alive; freed after the group is torn down, its
        # end joins gloo threads that may wait on a rank already gone, and the process never exits.
        run.trainee = run.model
    best = state.best
    console.print(f"Best dev accuracy {best['accuracy']:.4f} (epoch {best['epoch']}), model saved to {out}")
    return metrics


def save_epoch(
    run: Run, state: RunState, epoch: int, dev: dict, out: Path, settings: dict, dev_path: str | Path
) -> None:
    """Note the epoch in `state`; rank 0 saves the model when it is the best so far, and the checkpoint,
    while the other ranks wait. `settings`: the run's config and paths, kept in the checkpoint."""
    improved = dev["accuracy"] > state.best["accuracy"]
    if improved:
        state.best = {"accuracy": dev["accuracy"], "epoch": epoch, "threshold": dev["threshold"]}
    state.epoch = epoch
    if run.ranks.is_main:
        if improved:
            metrics = best_metrics(dev, epoch, state, run.config, run.reports)
            save_best(run.model, out, dev, dev_path, metrics)
        save_checkpoint(out / CHECKPOINT, run.model, run.optimizer, {**asdict(state), **settings})
    run.ranks.barrier()


@dataclass
class Run:
    """What stays fixed through a run's epochs."""

    config: TrainConfig
    data: TrainingData
    evaluator: PairEvaluator
    reports: dict  # what reading the train and dev files kept and skipped
    model: Siamese
    trainee: Siamese  # `model` as the steps run it: under DistributedDataParallel on several ranks
    ranks: Ranks
    optimizer: torch.optim.Optimizer
    loss_fn: nn.Module
    pair_loss: ContrastiveLoss
    sampler: ClusterDisjointBatchSampler  # the global batches, of batch_size pairs per rank
    use_bf16: bool
    device_type: str  # "cpu", "cuda"...: for autocast
    console: Console

    @property
    def total_steps(self) -> int:
        return self.config.epochs * len(self.sampler)


def check_ready(config: TrainConfig) -> None:
    """Checked before any data is read, so a bad setting or a missing package fails at once."""
    check_config(config)
    if config.embeddings == "minilm":
        minilm_dir()
    if config.encoder != "lstm":
        import_transformers()


def start_run(
    train_path: str | Path,
    dev_path: str | Path,
    config: TrainConfig,
    ranks: Ranks,
    checkpoint: Path | None,
    console: Console,
) -> Run:
    """Read the data and build the model, loss and optimiser; from `checkpoint` when resuming."""
    device = ranks.device
    train_pairs, train_report = read_pairs(train_path)
    dev_pairs, dev_report = read_pairs(dev_path)
    console.print(train_report.summary())
    console.print(dev_report.summary())
    tokenizer = make_tokenizer(config, train_pairs, checkpoint)
    data = prepare(train_pairs, tokenizer)
    n_hard = sum(c in data.hard_negatives for c in data.clusters)
    console.print(
        f"{len(data.clusters):,} duplicate pairs in {len(set(data.clusters)):,} clusters; "
        f"{n_hard:,} have a known non-duplicate; vocabulary {tokenizer.vocab_size:,}"
    )
    evaluator = PairEvaluator(dev_pairs, name="dev")
    use_bf16 = config.bf16 and bf16_supported(device.type)
    if config.bf16 and not use_bf16:
        console.print(f"This {device.type} has no native bfloat16 arithmetic: training in float32 instead")
    model = Siamese(tokenizer, make_encoder(config, tokenizer, pretrained=checkpoint is None)).to(device)
    loss_fn = make_loss(config)
    gathered = ranks.active and not config.local_negatives
    run = Run(
        config=config,
        data=data,
        evaluator=evaluator,
        reports={"train": report_record(train_report), "dev": report_record(dev_report)},
        model=model,
        trainee=Siamese(tokenizer, ranks.wrap(model.encoder)),  # type: ignore[arg-type]
        ranks=ranks,
        loss_fn=GatheredLoss(loss_fn, ranks) if gathered else loss_fn,
        pair_loss=ContrastiveLoss(margin=config.pair_margin, balanced=config.pair_balanced),
        optimizer=make_optimizer(model.encoder, config),
        sampler=ClusterDisjointBatchSampler(
            data.clusters, config.batch_size * ranks.world_size, seed=config.seed
        ),
        use_bf16=use_bf16,
        device_type=device.type,
        console=console,
    )
    if checkpoint is not None:
        load_checkpoint(checkpoint, run.model, run.optimizer)
    return run


def train_epoch(run: Run, state: RunState, epoch: int) -> EpochResult:
    """One pass over the epoch's batches, cut short when the time budget is spent; advances `state`.

    Every rank draws the same global batches (same seeds) and trains on its share of each; times are rank 0's.
    """
    config, result, budget, ranks = run.config, EpochResult(), budget_seconds(run.config), run.ranks
    run.sampler.set_epoch(epoch)
    rng = random.Random(config.seed * 1_000_003 + epoch)
    torch.manual_seed(ranks.seed(config.seed * 1_000_003 + epoch))  # dropout differs per rank
    run.model.encoder.train()
    start = time.perf_counter()
    with Progress(*progress_columns(), console=run.console, transient=False) as progress:
        mined = mine(run.model, run.data) if config.mined_negatives and epoch > 1 else None
        batches = list(run.sampler)  # cheap (index shuffling), and gives the bar its true length
        chunks = non_duplicate_chunks(run, rng, len(batches))
        task = progress.add_task("train", total=len(batches), epoch=epoch, loss=0.0, speed=0.0)
        elapsed = ranks.main_clock(start)
        for rows, chunk in zip(batches, chunks, strict=True):
            batch = make_batch(run.data, rows, rng, config.hard_negatives, mined, config.cluster_positives)
            time_used = (state.train_seconds + elapsed) / budget if budget else 1.0
            lr = lr_at(state.step, run.total_steps, config, time_used)
            share = batch_share(batch, ranks.rank, ranks.world_size)
            result.loss_sum += train_step(run, share, ranks.share(chunk), lr)
            state.step += 1
            result.batches += 1
            result.pairs += len(rows)
            elapsed = ranks.main_clock(start)
            average = result.loss_sum / result.batches
            progress.update(task, advance=1, loss=average, speed=result.pairs / elapsed)
            if state.train_seconds + elapsed >= budget:
                result.stopped_by_time = True
                break
    result.seconds = ranks.main_clock(start)
    state.train_seconds += result.seconds
    state.pairs_seen += result.pairs
    return result


def progress_columns() -> list:
    return [
        TextColumn("epoch {task.fields[epoch]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("loss {task.fields[loss]:.4f}  {task.fields[speed]:,.0f} pairs/s"),
    ]


def non_duplicate_chunks(run: Run, rng: random.Random, n_batches: int) -> list[list]:
    """The labelled non-duplicates for the contrastive term, shuffled and spread over the epoch's batches so
    each is seen once an epoch; empty chunks when the term does not use them."""
    config = run.config
    spread = config.pair_loss_weight and config.pair_negatives == "labelled"
    non_dups = rng.sample(run.data.non_duplicates, len(run.data.non_duplicates)) if spread else []
    per_batch = math.ceil(len(non_dups) / max(1, n_batches))
    return [non_dups[n * per_batch : (n + 1) * per_batch] for n in range(n_batches)]


def train_step(run: Run, batch: Batch, chunk: list, lr: float) -> float:
    """One optimiser step at learning rate `lr`; returns the batch's loss (its mean over the ranks)."""
    for group in run.optimizer.param_groups:
        group["lr"] = lr * group["lr_ratio"]
    loss = batch_loss(run, batch, chunk)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(run.model.encoder.parameters(), run.config.clip_norm)
    run.optimizer.step()
    return run.ranks.mean(loss.item())


def batch_loss(run: Run, batch: Batch, chunk: list) -> torch.Tensor:
    """The ranking loss of the batch, plus the weighted contrastive term on its labelled pairs."""
    config = run.config
    # One forward pass encodes every question of the step (shared weights).
    groups = [batch.anchors, batch.positives, batch.negatives, [a for a, _ in chunk], [b for _, b in chunk]]
    with torch.autocast(run.device_type, dtype=torch.bfloat16, enabled=run.use_bf16):
        vectors = run.trainee.encode_ids([ids for group in groups for ids in group])
    va, vp, vn, vpa, vpb = torch.split(vectors, [len(g) for g in groups])
    loss = run.loss_fn(va, vp, vn if len(vn) else None)
    if not config.pair_loss_weight:
        return loss
    if config.pair_negatives == "batch":
        rows_of_negatives = torch.tensor(batch.negative_rows, dtype=torch.long, device=va.device)
        vpa, vpb = va[rows_of_negatives], vn
    labels = torch.cat([torch.ones(len(va)), torch.zeros(len(vpa))]).to(vectors.device)
    contrastive = run.pair_loss(torch.cat([va, vpa]), torch.cat([vp, vpb]), labels)
    return loss + config.pair_loss_weight * contrastive
