import json
import re
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


def _damage(directory: Path, how: str) -> None:
    config_path, weights_path = directory / "config.json", directory / "model.safetensors"
    config = json.loads(config_path.read_text())
    if how == "config not json":
        config_path.write_text(config_path.read_text()[:-20])
    elif how == "unknown setting":
        config_path.write_text(json.dumps({**config, "encoder": {**config["encoder"], "heads": 4}}))
    elif how == "no encoder settings":
        config_path.write_text(json.dumps({k: v for k, v in config.items() if k != "encoder"}))
    elif how == "other shape":
        encoder = {**config["encoder"], "d_model": config["encoder"]["d_model"] * 2}
        config_path.write_text(json.dumps({**config, "encoder": encoder}))
    elif how == "truncated weights":
        weights_path.write_bytes(weights_path.read_bytes()[:100])


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("config not json", r"config\.json: not valid JSON"),
        ("unknown setting", r"config\.json: encoder: field heads: Extra inputs are not permitted"),
        ("no encoder settings", r"config\.json: field encoder: Field required"),
        ("other shape", r"model\.safetensors: its weights do not fit the encoder config\.json describes"),
        ("truncated weights", r"model\.safetensors: its SHA-256 .* corrupt or was changed"),
    ],
)
def test_load_names_the_file_of_damaged_files(
    tiny_model_dir: Path, tmp_path: Path, how: str, message: str
) -> None:
    Siamese.load(tiny_model_dir).save(tmp_path / "m")
    _damage(tmp_path / "m", how)
    with pytest.raises(ModelLoadError, match=f"{re.escape(str(tmp_path / 'm'))}.*{message}"):
        Siamese.load(tmp_path / "m")


def test_weights_stored_in_float16_load_into_float32(tiny_model_dir: Path, tmp_path: Path) -> None:
    """The shipped model stores its weights in float16 to stay small; loading copies them into the
    float32 parameters, and the vectors stay close to the float32 model's."""
    import shutil

    import torch
    from safetensors.torch import load_file, save_file

    model = Siamese.load(tiny_model_dir)
    shutil.copytree(
        tiny_model_dir, tmp_path / "half", ignore=shutil.ignore_patterns("checkpoint", "checksums.sha256")
    )
    weights = load_file(str(tmp_path / "half" / "model.safetensors"))
    save_file({k: w.half() for k, w in weights.items()}, str(tmp_path / "half" / "model.safetensors"))
    half = Siamese.load(tmp_path / "half")
    assert {p.dtype for p in half.encoder.parameters()} == {torch.float32}
    texts = ["how do i learn chess?", "is yoga hard?", "why do people like poetry?"]
    full, rounded = model.encode(texts), half.encode(texts)
    assert rounded.dtype == np.float32
    assert not np.array_equal(full, rounded)  # the rounding did happen
    assert np.abs(full - rounded).max() < 5e-3
