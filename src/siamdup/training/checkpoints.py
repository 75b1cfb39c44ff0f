"""What a run keeps on disk: the best model so far in `out`, and in `out/checkpoint/` the latest epoch's
weights, optimiser state and trainer state, from which `--resume` continues exactly."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import torch
from safetensors.torch import load_file, save_file

from siamdup import __version__
from siamdup.storage import atomic_directory, recover

CHECKPOINT = "checkpoint"
TRAINER_STATE = "trainer_state.json"


class Trained(Protocol):
    """What a run saves: a `Siamese` model, or the verifier (`siamdup.verify.Verifier`)."""

    threshold: float
    metadata: dict

    @property
    def encoder(self) -> torch.nn.Module: ...

    def save_files(self, folder: Path) -> None: ...

    def save(self, directory: str | Path, extra_files: dict[str, dict] | None = None) -> Path: ...


@dataclass
class RunState:
    """How far a run has got; saved in the checkpoint's trainer_state.json."""

    epoch: int = 0
    step: int = 0
    best: dict = field(default_factory=lambda: {"accuracy": -1.0, "epoch": 0})
    history: list[dict] = field(default_factory=list)
    train_seconds: float = 0.0
    pairs_seen: int = 0

    @classmethod
    def from_saved(cls, saved: dict) -> RunState:
        return cls(**{k: saved[k] for k in asdict(cls()) if k in saved})


def holds_a_model(out: Path) -> bool:
    return (out / "config.json").exists() or (out / CHECKPOINT).exists()


def read_trainer_state(checkpoint: Path) -> dict:
    """The saved trainer state (its settings, paths and RunState fields) of the run to resume."""
    recover(checkpoint)
    if not (checkpoint / TRAINER_STATE).exists():
        raise FileNotFoundError(f"nothing to resume: {checkpoint} holds no training state")
    return json.loads((checkpoint / TRAINER_STATE).read_text())


def save_checkpoint(
    checkpoint: Path, model: Trained, optimizer: torch.optim.Optimizer, trainer_state: dict
) -> None:
    """Replace the checkpoint with this epoch's, all files at once."""
    with atomic_directory(checkpoint) as staging:
        model.save_files(staging)
        tensors, meta = optimizer_state_tensors(optimizer)
        save_file(tensors, str(staging / "optimizer.safetensors"))
        (staging / "optimizer.json").write_text(json.dumps(meta))
        (staging / TRAINER_STATE).write_text(json.dumps(trainer_state, indent=2))


def load_checkpoint(checkpoint: Path, model: Trained, optimizer: torch.optim.Optimizer) -> None:
    """Load the checkpoint's encoder weights and optimiser state into a freshly built run."""
    model.encoder.load_state_dict(load_file(str(checkpoint / "model.safetensors")))
    meta = json.loads((checkpoint / "optimizer.json").read_text())
    load_optimizer_state(optimizer, load_file(str(checkpoint / "optimizer.safetensors")), meta)


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


def save_best(model: Trained, out: Path, dev: dict, dev_path: str | Path, metrics: dict) -> None:
    """Save the model of this epoch, the best so far, with τ tuned on dev and its metrics."""
    model.threshold = dev["threshold"]
    model.metadata = {
        "threshold_source": f"accuracy-optimal on {Path(dev_path).name} ({dev['n_pairs']} pairs)",
        "siamdup_version": __version__,
    }
    model.save(out, extra_files={"metrics.json": metrics})


def update_metrics(out: Path, changes: dict) -> dict:
    """The best model's metrics.json with `changes` (the whole run's history and figures), saved again."""
    metrics = json.loads((out / "metrics.json").read_text())
    metrics.update(changes)
    with atomic_directory(out) as staging:
        (staging / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
