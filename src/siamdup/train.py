"""Train a Siamese model on labelled question pairs: one loop, top to bottom, no framework.

Data: the duplicate pairs (label 1) form the batches; the sampler keeps every batch free of two pairs
from one duplicate cluster, so all off-diagonal similarities are negatives. The explicit non-duplicate
pairs (label 0), when enabled, add one known hard negative per row whose question has one.
Each epoch ends with a dev evaluation; the best model (by dev accuracy at the τ tuned on dev) is saved to
`out`, and `out/checkpoint/` holds the latest state for `--resume`.
"""

from __future__ import annotations

import json
import math
import random
import resource
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from safetensors.torch import load_file, save_file
from torch import nn

from siamdup import __version__
from siamdup.data.clusters import Clusters
from siamdup.data.mining import mine_hard_negatives
from siamdup.data.readers import Pair, read_pairs
from siamdup.data.sampler import ClusterDisjointBatchSampler
from siamdup.evaluate import PairEvaluator
from siamdup.losses import ContrastiveLoss, InBatchSoftmaxLoss, MinedTripletLoss
from siamdup.model.encoder import EncoderConfig, LSTMEncoder, check_pooling
from siamdup.model.precision import bf16_supported
from siamdup.model.siamese import Encoder, Siamese, pick_device
from siamdup.model.transformer import import_transformers
from siamdup.pretrained import (
    MINILM_DIM,
    minilm_dir,
    minilm_encoder,
    minilm_tokenizer,
    minilm_word_embeddings,
)
from siamdup.storage import atomic_directory, recover
from siamdup.tokenizer import Tokenizer

CHECKPOINT = "checkpoint"


@dataclass
class TrainConfig:
    """Every setting of a run; saved in the model's metrics.json and the checkpoint."""

    # tokenizer and embeddings: "learned" builds a word vocabulary from the training questions (vocab_size,
    # min_frequency) with embeddings learned from scratch; "minilm" takes all-MiniLM-L6-v2's WordPiece
    # vocabulary and starts from its token embeddings (siamdup.pretrained)
    embeddings: str = "learned"
    vocab_size: int = 30_000
    min_frequency: int = 2
    max_length: int = 64
    # encoder: "lstm", or "minilm" to fine-tune all-MiniLM-L6-v2's transformer itself (needs embeddings
    # "minilm" for its tokenizer; d_model, num_layers, bidirectional, dropout and pooling are the LSTM's)
    encoder: str = "lstm"
    # LSTM (defaults: the shipped model's recipe; see recipes.py and the README for how it was chosen)
    d_model: int = 128
    num_layers: int = 2
    bidirectional: bool = True
    dropout: float = 0.2
    pooling: str = "mean"  # or "mean+max"
    # loss
    loss: str = "in-batch-softmax"  # or "mined-triplet", the reference
    margin: float = 0.25  # α of the mined triplet loss
    scale: float = 20.0  # of the in-batch softmax
    hard_negatives: bool = True
    cluster_positives: float = 0.0  # share of rows whose positive is another question of the cluster
    mined_negatives: bool = False  # from epoch 2, also mine hard negatives with the model (data/mining.py)
    pair_loss_weight: float = 1.0  # weight of the contrastive term on labelled pairs (0: off)
    # the contrastive term's label-0 pairs: "labelled" spreads every labelled non-duplicate over the
    # epoch (two more questions to encode per pair); "batch" pairs each row's hard negative with its
    # anchor, already encoded (no extra work; needs hard_negatives)
    pair_negatives: str = "labelled"
    pair_margin: float = 0.5
    # the contrastive term as the mean of its duplicates' mean and its non-duplicates' mean, instead of one
    # mean over its pairs (where a batch's duplicates outweigh its labelled non-duplicates about 5 to 1)
    pair_balanced: bool = False
    # optimisation
    batch_size: int = 256
    lr: float = 5e-3
    # the token embeddings' learning rate as a share of lr: below 1 keeps pretrained embeddings (MiniLM's)
    # nearer to where they started; the LSTM encoder only
    embedding_lr_ratio: float = 1.0
    min_lr_ratio: float = 0.05
    warmup_steps: int = 100
    weight_decay: float = 0.0
    clip_norm: float = 1.0
    # mixed precision: the training forward pass under bfloat16 autocast (fast where the hardware has
    # bfloat16 arithmetic: AVX-512 BF16 / AMX CPUs, recent GPUs; elsewhere float32, with a notice); the
    # weights, the optimiser, the dev evaluation and the saved model stay float32. The transformer encoder
    # runs in bfloat16 wherever the hardware has it.
    bf16: bool = False
    epochs: int = 12
    patience: int = 4
    # training time; with dev evaluation the run stays within 30 minutes. The learning rate reaches its
    # floor by then even where fewer than `epochs` fit (lr_at)
    max_minutes: float | None = 27.0
    seed: int = 0

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def make_loss(config: TrainConfig) -> nn.Module:
    if config.loss == "mined-triplet":
        return MinedTripletLoss(margin=config.margin, reduction="mean")
    if config.loss == "in-batch-softmax":
        return InBatchSoftmaxLoss(scale=config.scale)
    raise ValueError(f"unknown loss {config.loss!r}: use mined-triplet or in-batch-softmax")


def check_config(config: TrainConfig) -> None:
    """Clear errors for settings that cannot work, raised before any data is read."""
    if config.embeddings not in ("learned", "minilm"):
        raise ValueError(f"unknown embeddings {config.embeddings!r}: use learned or minilm")
    if config.encoder not in ("lstm", "minilm"):
        raise ValueError(f"unknown encoder {config.encoder!r}: use lstm or minilm")
    if config.encoder == "minilm" and config.embeddings != "minilm":
        raise ValueError("the minilm encoder reads MiniLM's tokens: set embeddings to minilm as well")
    check_pooling(config.pooling)
    if config.pair_negatives not in ("labelled", "batch"):
        raise ValueError(f"unknown pair_negatives {config.pair_negatives!r}: use labelled or batch")
    if config.pair_negatives == "batch" and not config.hard_negatives:
        raise ValueError(
            "pair_negatives batch pairs anchors with their hard negatives: enable hard_negatives"
        )
    if config.embedding_lr_ratio < 0:
        raise ValueError(f"embedding_lr_ratio is a share of lr, 0 or more: got {config.embedding_lr_ratio}")
    if not 0.0 <= config.cluster_positives <= 1.0:
        raise ValueError(
            f"cluster_positives is a share of the rows, from 0 to 1: got {config.cluster_positives}"
        )


def make_encoder(config: TrainConfig, tokenizer: Tokenizer, pretrained: bool) -> Encoder:
    """The encoder to train; `pretrained`: start from MiniLM's weights where the config uses them
    (a resumed run loads its own weights instead)."""
    if config.encoder == "minilm":
        return minilm_encoder(pretrained)
    encoder = LSTMEncoder(
        EncoderConfig(
            vocab_size=tokenizer.vocab_size,
            d_model=config.d_model,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout,
            pad_id=tokenizer.pad_id,
            embedding_dim=MINILM_DIM if config.embeddings == "minilm" else None,
            pooling=config.pooling,
        )
    )
    if pretrained and config.embeddings == "minilm":
        with torch.no_grad():
            encoder.embedding.weight.copy_(minilm_word_embeddings())
    return encoder


def parameter_groups(encoder: Encoder, config: TrainConfig) -> list[dict]:
    """The optimiser's parameter groups, each with the share of the scheduled lr it trains at."""
    if not isinstance(encoder, LSTMEncoder) or config.embedding_lr_ratio == 1.0:
        return [{"params": list(encoder.parameters()), "lr_ratio": 1.0}]
    table = encoder.embedding.weight
    return [
        {"params": [table], "lr_ratio": config.embedding_lr_ratio},
        {"params": [p for p in encoder.parameters() if p is not table], "lr_ratio": 1.0},
    ]


def lr_at(step: int, total_steps: int, config: TrainConfig, time_used: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio · lr at total_steps or when the time budget is
    spent, whichever comes first: `time_used` is the share of max_minutes already trained. On a machine
    too slow for every epoch, the run still ends annealed instead of being cut off at a high rate."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    by_steps = (step - config.warmup_steps) / max(1, total_steps - config.warmup_steps)
    progress = min(1.0, max(by_steps, time_used))
    floor = config.lr * config.min_lr_ratio
    return floor + (config.lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class TrainingData:
    """The duplicate pairs as token ids, their clusters, and the known non-duplicates."""

    ids1: list[list[int]]
    ids2: list[list[int]]
    clusters: list[int]
    hard_negatives: dict[int, list[tuple[list[int], int]]]  # cluster -> [(question ids, its cluster)]
    non_duplicates: list[tuple[list[int], list[int]]]  # the label-0 pairs, as token ids
    # Every distinct question of the file, for mining and cluster positives: its token ids and cluster,
    # where each duplicate pair's two questions are in this list, and each cluster's questions.
    questions: list[list[int]]
    question_clusters: np.ndarray
    pair_questions: np.ndarray  # (pairs, 2)
    cluster_members: dict[int, list[int]]  # cluster -> its questions (indices into `questions`)


@dataclass
class Batch:
    anchors: list[list[int]]
    positives: list[list[int]]
    negatives: list[list[int]]  # extra columns of the similarity matrix: negatives for every row
    negative_rows: list[int]  # the row whose anchor each negative was drawn for


def prepare(pairs: list[Pair], tokenizer: Tokenizer) -> TrainingData:
    clusters = Clusters(pairs)
    dups = [p for p in pairs if p.label == 1]
    if not dups:
        raise ValueError("the training data has no duplicate pair (label 1): nothing to learn from")
    non_dups = [p for p in pairs if p.label == 0]
    ids1, ids2 = (
        tokenizer.tokenize([p.question1 for p in dups]),
        tokenizer.tokenize([p.question2 for p in dups]),
    )
    neg_ids1 = tokenizer.tokenize([p.question1 for p in non_dups])
    neg_ids2 = tokenizer.tokenize([p.question2 for p in non_dups])
    negatives: dict[int, list[tuple[list[int], int]]] = defaultdict(list)
    non_duplicates = []
    for p, i1, i2 in zip(non_dups, neg_ids1, neg_ids2, strict=True):
        c1, c2 = clusters.of(p.question1), clusters.of(p.question2)
        if c1 != c2:  # a pair labelled 0 whose questions are linked by duplicates elsewhere is ambiguous
            negatives[c1].append((i2, c2))
            negatives[c2].append((i1, c1))
            non_duplicates.append((i1, i2))
    position: dict[tuple[int, ...], int] = {}
    questions, question_clusters = [], []
    for text, ids in zip(
        [q for p in dups + non_dups for q in (p.question1, p.question2)],
        [x for a, b in zip(ids1 + neg_ids1, ids2 + neg_ids2, strict=True) for x in (a, b)],
        strict=True,
    ):
        if tuple(ids) not in position:
            position[tuple(ids)] = len(questions)
            questions.append(ids)
            question_clusters.append(clusters.of(text))
    members: dict[int, list[int]] = defaultdict(list)
    for j, cluster in enumerate(question_clusters):
        members[cluster].append(j)
    return TrainingData(
        ids1=ids1,
        ids2=ids2,
        clusters=[clusters.pair_cluster(p) for p in dups],
        hard_negatives=dict(negatives),
        non_duplicates=non_duplicates,
        questions=questions,
        question_clusters=np.array(question_clusters),
        cluster_members=dict(members),
        pair_questions=np.array(
            [[position[tuple(a)], position[tuple(b)]] for a, b in zip(ids1, ids2, strict=True)]
        ),
    )


def mine(model: Siamese, data: TrainingData) -> list[np.ndarray]:
    """For each duplicate pair, questions of other clusters the model now places close to its first one."""
    vectors = model.encode_tokenized(data.questions, batch_size=1024)
    first, second = vectors[data.pair_questions[:, 0]], vectors[data.pair_questions[:, 1]]
    clusters = data.question_clusters[data.pair_questions[:, 0]]
    return mine_hard_negatives(first, (first * second).sum(1), clusters, vectors, data.question_clusters)


def make_batch(
    data: TrainingData,
    rows: list[int],
    rng: random.Random,
    hard_negatives: bool,
    mined: list[np.ndarray] | None = None,
    cluster_positives: float = 0.0,
) -> Batch:
    """Anchors, positives (each pair in a random direction) and up to one extra negative per row: a known
    non-duplicate of its cluster or a mined one, half of the time each when both exist. With probability
    `cluster_positives` the positive is another question of the anchor's cluster (duplicates by transitivity)."""
    anchors, positives, negatives, negative_rows = [], [], [], []
    batch_clusters = {data.clusters[i] for i in rows}
    for i in rows:
        a, p = (data.ids1[i], data.ids2[i]) if rng.random() < 0.5 else (data.ids2[i], data.ids1[i])
        if cluster_positives and rng.random() < cluster_positives:
            others = data.cluster_members[data.clusters[i]]
            p = data.questions[rng.choice(others)]
            while p == a and len(others) > 1:
                p = data.questions[rng.choice(others)]
        anchors.append(a)
        positives.append(p)
        known = data.hard_negatives.get(data.clusters[i], []) if hard_negatives else []
        found = mined[i] if mined is not None else ()
        if known and (not len(found) or rng.random() < 0.5):
            ids, cluster = rng.choice(known)
        elif len(found):
            j = int(found[rng.randrange(len(found))])
            ids, cluster = data.questions[j], int(data.question_clusters[j])
        else:
            continue
        if cluster not in batch_clusters:  # it must be a negative for every row, not just row i
            negatives.append(ids)
            negative_rows.append(len(anchors) - 1)
    return Batch(anchors, positives, negatives, negative_rows)


def optimizer_state_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    """Adam's state as flat tensors (for safetensors) and its hyper-parameters (for JSON)."""
    sd = optimizer.state_dict()
    tensors = {
        f"{idx}.{key}": torch.as_tensor(v).cpu() for idx, st in sd["state"].items() for key, v in st.items()
    }
    return tensors, {"param_groups": sd["param_groups"]}


def load_optimizer_state(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict
) -> None:
    state: dict[int, dict] = defaultdict(dict)
    for name, tensor in tensors.items():
        idx, key = name.split(".", 1)
        state[int(idx)][key] = tensor
    # A checkpoint from before the embedding share (TrainConfig.embedding_lr_ratio) has no lr_ratio.
    groups = [{"lr_ratio": 1.0, **group} for group in meta["param_groups"]]
    optimizer.load_state_dict({"state": dict(state), "param_groups": groups})


def run_figures(pairs_seen: int, train_seconds: float, steps: int) -> dict:
    """Throughput and peak memory of the run so far, as recorded in metrics.json."""
    return {
        "train": {
            "pairs_per_s": pairs_seen / max(train_seconds, 1e-9),
            "seconds": train_seconds,
            "steps": steps,
        },
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux reports KiB
    }


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
) -> dict:
    """Train, keep the best model in `out`, and return its metrics (also saved as out/metrics.json).

    A directory that already holds a model is only written to with `resume` (continue it) or
    `overwrite` (replace it). `on_epoch` is called with each epoch's record after its checkpoint is saved.
    """
    console = console or Console(stderr=True)
    out = Path(out)
    checkpoint = out / CHECKPOINT
    if not (resume or overwrite) and ((out / "config.json").exists() or checkpoint.exists()):
        raise FileExistsError(
            f"{out} already holds a model: resume it, overwrite it, or choose another output"
        )
    state: dict = {}
    if resume:
        recover(checkpoint)
        if not (checkpoint / "trainer_state.json").exists():
            raise FileNotFoundError(f"nothing to resume: {checkpoint} holds no training state")
        state = json.loads((checkpoint / "trainer_state.json").read_text())
        config = TrainConfig.from_dict(state["config"])
        console.print(f"Resuming from {checkpoint} after epoch {state['epoch']}")
    config = config or TrainConfig()
    # Checked before any data is read, so a bad setting or a missing package fails at once.
    check_config(config)
    if config.embeddings == "minilm":
        minilm_dir()
    if config.encoder != "lstm":
        import_transformers()
    torch.manual_seed(config.seed)
    dev_device = pick_device(device)

    # -- data ------------------------------------------------------------------------------------
    train_pairs, train_report = read_pairs(train_path)
    dev_pairs, dev_report = read_pairs(dev_path)
    console.print(train_report.summary())
    console.print(dev_report.summary())
    if resume:
        tokenizer = Tokenizer.load(checkpoint / "tokenizer.json", max_length=config.max_length)
    elif config.embeddings == "minilm":
        tokenizer = minilm_tokenizer(config.max_length)
    else:
        texts = [q for p in train_pairs for q in (p.question1, p.question2)]
        tokenizer = Tokenizer.train(
            texts,
            vocab_size=config.vocab_size,
            min_frequency=config.min_frequency,
            max_length=config.max_length,
        )
    data = prepare(train_pairs, tokenizer)
    n_hard = sum(c in data.hard_negatives for c in data.clusters)
    console.print(
        f"{len(data.clusters):,} duplicate pairs in {len(set(data.clusters)):,} clusters; "
        f"{n_hard:,} have a known non-duplicate; vocabulary {tokenizer.vocab_size:,}"
    )
    evaluator = PairEvaluator(dev_pairs, name="dev")
    use_bf16 = config.bf16 and bf16_supported(dev_device.type)
    if config.bf16 and not use_bf16:
        console.print(
            f"This {dev_device.type} has no native bfloat16 arithmetic: training in float32 instead"
        )

    # -- model, loss, optimiser -----------------------------------------------------------------
    encoder = make_encoder(config, tokenizer, pretrained=not resume)
    model = Siamese(tokenizer, encoder).to(dev_device)
    loss_fn = make_loss(config)
    pair_loss = ContrastiveLoss(margin=config.pair_margin, balanced=config.pair_balanced)
    # fused: one kernel for the whole update instead of a pass per operation (4x faster on the CPU here)
    optimizer = torch.optim.AdamW(
        parameter_groups(model.encoder, config), lr=config.lr, weight_decay=config.weight_decay, fused=True
    )
    sampler = ClusterDisjointBatchSampler(data.clusters, config.batch_size, seed=config.seed)
    total_steps = config.epochs * len(sampler)
    budget_seconds = 60 * config.max_minutes if config.max_minutes is not None else math.inf
    if resume:
        model.encoder.load_state_dict(load_file(str(checkpoint / "model.safetensors")))
        meta = json.loads((checkpoint / "optimizer.json").read_text())
        load_optimizer_state(optimizer, load_file(str(checkpoint / "optimizer.safetensors")), meta)
    start_epoch = state.get("epoch", 0)
    step = state.get("step", 0)
    best = state.get("best", {"accuracy": -1.0, "epoch": 0})
    history: list[dict] = state.get("history", [])
    train_seconds = state.get("train_seconds", 0.0)
    pairs_seen = state.get("pairs_seen", 0)

    # -- loop ------------------------------------------------------------------------------------
    for epoch in range(start_epoch + 1, config.epochs + 1):
        if 0 < train_seconds >= budget_seconds:
            console.print(f"Time budget of {config.max_minutes} min reached: stopping")
            break
        sampler.set_epoch(epoch)
        rng = random.Random(config.seed * 1_000_003 + epoch)
        torch.manual_seed(config.seed * 1_000_003 + epoch)
        model.encoder.train()
        epoch_start, epoch_pairs, loss_sum, n_batches = time.perf_counter(), 0, 0.0, 0
        stopped_by_time = False
        columns = [
            TextColumn("epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        columns.append(TextColumn("loss {task.fields[loss]:.4f}  {task.fields[speed]:,.0f} pairs/s"))
        with Progress(*columns, console=console, transient=False) as progress:
            mined = mine(model, data) if config.mined_negatives and epoch > 1 else None
            batches = list(sampler)  # cheap (index shuffling), and gives the bar its true length
            # Spread the labelled non-duplicates over the epoch's batches, each seen once an epoch.
            spread_non_dups = config.pair_loss_weight and config.pair_negatives == "labelled"
            non_dups = rng.sample(data.non_duplicates, len(data.non_duplicates)) if spread_non_dups else []
            per_batch = math.ceil(len(non_dups) / max(1, len(batches)))
            task = progress.add_task("train", total=len(batches), epoch=epoch, loss=0.0, speed=0.0)
            for n_batch, rows in enumerate(batches):
                batch = make_batch(data, rows, rng, config.hard_negatives, mined, config.cluster_positives)
                chunk = non_dups[n_batch * per_batch : (n_batch + 1) * per_batch]
                trained = train_seconds + time.perf_counter() - epoch_start
                time_used = trained / budget_seconds if budget_seconds else 1.0
                for group in optimizer.param_groups:
                    group["lr"] = lr_at(step, total_steps, config, time_used) * group["lr_ratio"]
                # One forward pass encodes every question of the step (shared weights).
                pair_a = [a for a, _ in chunk]
                pair_b = [b for _, b in chunk]
                groups = [batch.anchors, batch.positives, batch.negatives, pair_a, pair_b]
                with torch.autocast(dev_device.type, dtype=torch.bfloat16, enabled=use_bf16):
                    vectors = model.encode_ids([ids for group in groups for ids in group])
                va, vp, vn, vpa, vpb = torch.split(vectors, [len(g) for g in groups])
                loss = loss_fn(va, vp, vn if len(vn) else None)
                if config.pair_loss_weight:
                    if config.pair_negatives == "batch":
                        rows_of_negatives = torch.tensor(
                            batch.negative_rows, dtype=torch.long, device=va.device
                        )
                        vpa, vpb = va[rows_of_negatives], vn
                    labels = torch.cat([torch.ones(len(va)), torch.zeros(len(vpa))]).to(vectors.device)
                    contrastive = pair_loss(torch.cat([va, vpa]), torch.cat([vp, vpb]), labels)
                    loss = loss + config.pair_loss_weight * contrastive
                b = len(rows)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.encoder.parameters(), config.clip_norm)
                optimizer.step()
                step += 1
                n_batches += 1
                epoch_pairs += b
                loss_sum += loss.item()
                elapsed = time.perf_counter() - epoch_start
                progress.update(task, advance=1, loss=loss_sum / n_batches, speed=epoch_pairs / elapsed)
                if train_seconds + elapsed >= budget_seconds:
                    stopped_by_time = True
                    break
        epoch_seconds = time.perf_counter() - epoch_start
        train_seconds += epoch_seconds
        pairs_seen += epoch_pairs

        # -- evaluate on dev, keep the best --------------------------------------------------------
        dev = evaluator.tune(model)
        record = {
            "epoch": epoch,
            "train_loss": loss_sum / max(1, n_batches),
            "dev_accuracy": dev["accuracy"],
            "dev_threshold": dev["threshold"],
            "dev_roc_auc": dev["roc_auc"],
            "dev_accuracy_at_0.7": dev["at_default_threshold"]["accuracy"],
            "pairs_per_s": epoch_pairs / epoch_seconds,
            "seconds": epoch_seconds,
        }
        history.append(record)
        console.print(
            f"epoch {epoch}: loss {record['train_loss']:.4f}  dev accuracy {dev['accuracy']:.4f} at τ="
            f"{dev['threshold']:.3f} (at 0.7: {record['dev_accuracy_at_0.7']:.4f})  AUC {dev['roc_auc']:.4f}  "
            f"{record['pairs_per_s']:,.0f} pairs/s"
        )
        if dev["accuracy"] > best["accuracy"]:
            best = {"accuracy": dev["accuracy"], "epoch": epoch, "threshold": dev["threshold"]}
            model.threshold = dev["threshold"]
            model.metadata = {
                "threshold_source": f"accuracy-optimal on {Path(dev_path).name} ({dev['n_pairs']} pairs)",
                "siamdup_version": __version__,
            }
            metrics = {
                "dev": dev,
                "best_epoch": epoch,
                **run_figures(pairs_seen, train_seconds, step),
                "config": asdict(config),
                "data": {"train": asdict(train_report), "dev": asdict(dev_report)},
                "history": history,
            }
            model.save(out, extra_files={"metrics.json": metrics})
        with atomic_directory(checkpoint) as staging:
            model.save_files(staging)
            tensors, meta = optimizer_state_tensors(optimizer)
            save_file(tensors, str(staging / "optimizer.safetensors"))
            (staging / "optimizer.json").write_text(json.dumps(meta))
            trainer_state = {
                "epoch": epoch,
                "step": step,
                "best": best,
                "history": history,
                "train_seconds": train_seconds,
                "pairs_seen": pairs_seen,
                "config": asdict(config),
                "paths": {"train": str(Path(train_path).resolve()), "dev": str(Path(dev_path).resolve())},
            }
            (staging / "trainer_state.json").write_text(json.dumps(trainer_state, indent=2))
        if on_epoch:
            on_epoch(record)
        if stopped_by_time:
            console.print(f"Time budget of {config.max_minutes} min reached: stopping")
            break
        if epoch - best["epoch"] >= config.patience:
            console.print(f"No dev improvement for {config.patience} epochs: stopping early")
            break

    metrics = json.loads((out / "metrics.json").read_text())
    metrics.update(history=history, **run_figures(pairs_seen, train_seconds, step))
    with atomic_directory(out) as staging:
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    console.print(f"Best dev accuracy {best['accuracy']:.4f} (epoch {best['epoch']}), model saved to {out}")
    return metrics
