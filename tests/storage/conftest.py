"""Fixtures for the storage tests: a small model made in milliseconds, an index of it, and a helper that
runs Python in a separate process (a real second writer or reader)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

QUESTIONS = {
    "chess": "how do i learn chess?",
    "python": "what is the best way to learn python?",
    "guitar": "is guitar hard?",
    "rice": "how do i cook rice?",
    "sky": "why is the sky blue?",
}


@pytest.fixture(scope="session")
def small_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised LSTM model, 16 wide, over a few words (saved by this siamdup)."""
    import torch

    from siamdup import Siamese
    from siamdup.model.encoder import EncoderConfig, LSTMEncoder
    from siamdup.tokenizer import Tokenizer

    tokenizer = Tokenizer.train(list(QUESTIONS.values()), vocab_size=64, min_frequency=1)
    torch.manual_seed(0)
    encoder = LSTMEncoder(EncoderConfig(vocab_size=tokenizer.vocab_size, d_model=16, pad_id=tokenizer.pad_id))
    return Siamese(tokenizer, encoder.eval(), threshold=0.5).save(tmp_path_factory.mktemp("small") / "model")


@pytest.fixture
def small_index_dir(small_model_dir: Path, tmp_path: Path) -> Path:
    from siamdup import Siamese
    from siamdup.index import DuplicateIndex

    index = DuplicateIndex(Siamese.load(small_model_dir))
    index.add(list(QUESTIONS), list(QUESTIONS.values()))
    return index.save(tmp_path / "index")


def python_process(code: str, *args: str) -> subprocess.Popen:
    """`python -c code args...` with pipes to talk to it; it runs this checkout's siamdup."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
