import json
from pathlib import Path

import numpy as np
import pytest

from siamdup import Siamese
from siamdup.model.siamese import ModelLoadError


def test_save_load_round_trip_gives_identical_vectors(tiny_model_dir: Path, tmp_path: Path) -> None:
    model = Siamese.load(tiny_model_dir)
    texts = ["how do i learn chess?", "is yoga hard?", "why do people like poetry?"]
    model.save(tmp_path / "copy")
    again = Siamese.load(tmp_path / "copy")
    assert np.array_equal(model.encode(texts), again.encode(texts))
    assert again.threshold == model.threshold


def test_encode_keeps_order_across_length_sorted_batches(tiny_model_dir: Path) -> None:
    model = Siamese.load(tiny_model_dir)
    texts = [
        "is chess hard?",
        "what is the best way to learn french?",
        "why?",
        "how can i get good at piano?",
    ] * 5
    together = model.encode(texts, batch_size=3)
    one_by_one = np.stack([model.encode([t])[0] for t in texts])
    assert np.allclose(together, one_by_one, atol=1e-6)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_similarity_and_predict(tiny_model_dir: Path) -> None:
    model = Siamese.load(tiny_model_dir)
    a = ["how do i learn chess?", "how do i learn chess?"]
    b = ["what is the best way to learn chess?", "what is the best way to learn sewing?"]
    scores, decisions = model.predict(a, b)
    va, vb = model.encode(a), model.encode(b)
    assert np.allclose(scores, (va * vb).sum(1), atol=1e-6)
    assert decisions.tolist() == [True, False]
    with pytest.raises(ValueError, match="equal length"):
        model.similarity(a, b[:1])
    with pytest.raises(TypeError):
        model.encode("a single string")


def test_load_refuses_incomplete_or_foreign_directories(tiny_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no model directory"):
        Siamese.load(tmp_path / "absent")
    Siamese.load(tiny_model_dir).save(tmp_path / "m")
    (tmp_path / "m" / "tokenizer.json").unlink()
    with pytest.raises(ModelLoadError, match=r"missing tokenizer\.json"):
        Siamese.load(tmp_path / "m")
    Siamese.load(tiny_model_dir).save(tmp_path / "n")
    config = json.loads((tmp_path / "n" / "config.json").read_text())
    (tmp_path / "n" / "config.json").write_text(json.dumps({**config, "format_version": 99}))
    with pytest.raises(ModelLoadError, match="unsupported model format"):
        Siamese.load(tmp_path / "n")
