"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest

# tests/conftest.py -> parents[1] is the repo root; the shared data lives beside it in ../shared.
DEFAULT_QQP_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "qqp"


@pytest.fixture(scope="session")
def qqp_dir() -> Path:
    """The real QQP data folder ($SIAMDUP_QQP_DIR or ../shared/data/qqp); skips the test when absent."""
    env = os.environ.get("SIAMDUP_QQP_DIR")
    path = Path(env) if env else DEFAULT_QQP_DIR
    if not path.is_dir():
        pytest.skip(f"../shared/data/qqp not found: {path.resolve()} (set SIAMDUP_QQP_DIR to its location)")
    return path.resolve()


# -- a small synthetic task, so training, saving and the CLI are tested without the real data ----------

TOPICS = [
    "python",
    "guitar",
    "chess",
    "french",
    "calculus",
    "yoga",
    "photography",
    "cooking",
    "swimming",
    "painting",
    "poetry",
    "investing",
    "running",
    "chemistry",
    "piano",
    "skiing",
    "baking",
    "sewing",
    "knitting",
    "drawing",
]
FORMS = [
    ["how do i learn {}?", "what is the best way to learn {}?", "how can i get good at {}?"],
    ["is {} hard?", "how difficult is {}?", "is it hard to pick up {}?"],
    ["why do people like {}?", "what makes {} so popular?", "why is {} so loved?"],
]


def synthetic_pairs(seed: int, n_negatives: int) -> list[tuple[int, str, str]]:
    """(label, q1, q2): duplicates are two forms of one template on one topic; non-duplicates differ in topic."""
    import itertools
    import random

    rng = random.Random(seed)
    pairs = [
        (1, a.format(t), b.format(t))
        for t in TOPICS
        for forms in FORMS
        for a, b in itertools.combinations(forms, 2)
    ]
    for _ in range(n_negatives):
        forms = rng.choice(FORMS)
        t1, t2 = rng.sample(TOPICS, 2)
        pairs.append((0, rng.choice(forms).format(t1), rng.choice(forms).format(t2)))
    rng.shuffle(pairs)
    return pairs


def write_partition_tsv(path: Path, pairs: list[tuple[int, str, str]]) -> Path:
    path.write_text("".join(f"{label}\t{q1}\t{q2}\t{i}\n" for i, (label, q1, q2) in enumerate(pairs)))
    return path


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("synthetic")
    train = write_partition_tsv(folder / "train.tsv", synthetic_pairs(0, n_negatives=60))
    dev = synthetic_pairs(1, n_negatives=180)
    dev = [p for p in dev if p[0] == 1][:90] + [p for p in dev if p[0] == 0][:90]
    return train, write_partition_tsv(folder / "dev.tsv", dev)


def tiny_config(**overrides):
    from siamdup.training.settings import TrainConfig

    settings = dict(
        d_model=32, epochs=6, batch_size=16, lr=1e-2, warmup_steps=5, min_frequency=1, patience=10
    )
    return TrainConfig(**{**settings, **overrides})


@pytest.fixture(scope="session")
def tiny_model_dir(synthetic_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained in a few seconds on the synthetic task (shared by the model, train and CLI tests)."""
    from rich.console import Console

    from siamdup.training.loop import train

    out = tmp_path_factory.mktemp("tiny_model")
    train(*synthetic_files, out, tiny_config(), console=Console(quiet=True))
    return out


@pytest.fixture(scope="session")
def shipped_model():
    """The model that ships with siamdup (deterministic, loads in a fraction of a second)."""
    from siamdup import Siamese

    return Siamese.load()


FORUM_QUESTIONS = {
    "py": "What is the best way to learn Python?",
    "rice": "How do I cook rice?",
    "flights": "Where can I buy cheap flights?",
    "weight": "How can I lose weight fast?",
    "paris": "What is the capital of France?",
    "guitar": "How long does it take to learn guitar?",
    "sleep": "Why can't I sleep at night?",
    "job": "How do I prepare for a job interview?",
}


@pytest.fixture(scope="session")
def untrained_twin_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised LSTM model, 24 wide, with the tiny model's tokenizer: a second ensemble member."""
    import torch

    from siamdup import Siamese
    from siamdup.model.encoder import EncoderConfig, LSTMEncoder

    tokenizer = Siamese.load(tiny_model_dir).tokenizer
    torch.manual_seed(1)
    encoder = LSTMEncoder(EncoderConfig(vocab_size=tokenizer.vocab_size, d_model=24, pad_id=tokenizer.pad_id))
    return Siamese(tokenizer, encoder.eval()).save(tmp_path_factory.mktemp("untrained_twin"))
