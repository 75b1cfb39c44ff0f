"""Shared pytest fixtures."""

import os
from pathlib import Path

import pytest
from helpers import DEFAULT_QQP_DIR, synthetic_pairs, tiny_config, write_partition_tsv


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The trainings on real data (marker `integration`) run in CI or with SIAMDUP_INTEGRATION=1, so that
    a developer's default run stays short."""
    if os.environ.get("CI", "").lower() == "true" or os.environ.get("SIAMDUP_INTEGRATION") == "1":
        return
    skip = pytest.mark.skip(reason="trains on real data: set CI=true or SIAMDUP_INTEGRATION=1 to run it")
    for item in items:
        if item.get_closest_marker("integration") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def qqp_dir() -> Path:
    """The real QQP data folder ($SIAMDUP_QQP_DIR or ../shared/data/qqp); skips the test when absent."""
    env = os.environ.get("SIAMDUP_QQP_DIR")
    path = Path(env) if env else DEFAULT_QQP_DIR
    if not path.is_dir():
        pytest.skip(f"../shared/data/qqp not found: {path.resolve()} (set SIAMDUP_QQP_DIR to its location)")
    return path.resolve()


# -- a small synthetic task, so training, saving and the CLI are tested without the real data ----------


@pytest.fixture(scope="session")
def synthetic_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("synthetic")
    train = write_partition_tsv(folder / "train.tsv", synthetic_pairs(0, n_negatives=60))
    dev = synthetic_pairs(1, n_negatives=180)
    dev = [p for p in dev if p[0] == 1][:90] + [p for p in dev if p[0] == 0][:90]
    return train, write_partition_tsv(folder / "dev.tsv", dev)


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
