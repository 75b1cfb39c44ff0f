"""A tiny verifier trained once per session on synthetic pairs: a 2-layer, 32-wide BERT with MiniLM's
tokenizer, so no test runs the 90 MB model."""

from __future__ import annotations

import contextlib
import functools
import itertools
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from helpers import TOPICS, synthetic_pairs, tiny_config, write_partition_tsv
from rich.console import Console

TINY_BERT = {
    "model_type": "bert",
    "vocab_size": 30522,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
    "type_vocab_size": 2,
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
}


def tiny_verifier_config(**overrides):
    """The verifier recipe, shrunk to the synthetic task."""
    settings = dict(
        encoder="cross",
        embeddings="minilm",
        max_length=16,
        batch_size=16,
        lr=5e-4,
        warmup_steps=10,
        epochs=2,
        pair_balanced=True,
        bf16=False,
        max_minutes=None,
    )
    return tiny_config(**{**settings, **overrides})


# Forms the training pairs never use: dev pairs are then no paraphrase of a training pair (another duplicate
# cluster), and the verifier must have learnt what makes two questions the same, not the pairs themselves.
DEV_FORMS = [["where can i study {}?", "who teaches {} near me?", "where are {} lessons given?"]]


def verifier_dev_pairs(seed: int, n_negatives: int) -> list[tuple[int, str, str]]:
    rng = random.Random(seed)
    pairs = [
        (1, a.format(t), b.format(t))
        for t in TOPICS
        for forms in DEV_FORMS
        for a, b in itertools.combinations(forms, 2)
    ]
    for _ in range(n_negatives):
        forms = rng.choice(DEV_FORMS)
        t1, t2 = rng.sample(TOPICS, 2)
        pairs.append((0, rng.choice(forms).format(t1), rng.choice(forms).format(t2)))
    return pairs


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Tiny networks run fastest on one thread, and far faster than on two on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def verifier_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("verifier_data")
    train = write_partition_tsv(folder / "train.tsv", synthetic_pairs(0, n_negatives=240))
    return train, write_partition_tsv(folder / "dev.tsv", verifier_dev_pairs(1, n_negatives=60))


@contextlib.contextmanager
def building(**settings) -> Iterator[None]:
    """Make `siamdup train --recipe verifier` build `new_verifier(..., **settings)` instead of MiniLM's."""
    import siamdup.verify.training
    from siamdup.verify.building import new_verifier

    patch = pytest.MonkeyPatch()
    patch.setattr(siamdup.verify.training, "new_verifier", functools.partial(new_verifier, **settings))
    try:
        yield
    finally:
        patch.undo()


@pytest.fixture(scope="session")
def trained_verifier_dir(verifier_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A verifier trained for two epochs on the synthetic pairs: the first layer of MiniLM's transformer, so
    that it learns in seconds what a randomly initialised network needs thousands of steps for."""
    from siamdup.training.loop import train

    out = tmp_path_factory.mktemp("verifier") / "verifier"
    with building(layers=1), one_thread():
        train(*verifier_files, out, tiny_verifier_config(), console=Console(quiet=True))
    return out


@pytest.fixture(scope="session")
def random_verifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained tiny verifier, saved: what scoring, export, the index and the CLI do with it does not
    depend on its being any good."""
    from siamdup.verify.building import new_verifier

    torch.manual_seed(0)
    verifier = new_verifier(16, TINY_BERT)
    verifier.threshold = 0.45
    verifier.temperature = 1.5
    return verifier.save(tmp_path_factory.mktemp("random_verifier") / "verifier")
