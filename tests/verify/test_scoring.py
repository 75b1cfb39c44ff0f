import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from verifier_samples import TINY_BERT, one_thread

from siamdup.verify import Verifier, VerifierLoadError, VerifyLimitError
from siamdup.verify.building import new_verifier
from siamdup.verify.cross_encoder import pair_inputs
from siamdup.verify.scoring import sigmoid

Q1 = ["How old are you?", "how do i learn chess?", "Where are you from?", "a"]
Q2 = [
    "What is your age?",
    "is it hard to pick up chess and go and poker at once?",
    "Where are you going?",
    "b",
]


def test_score_is_the_network_on_each_pair_alone(random_verifier_dir: Path) -> None:
    """Batched, sorted and padded scoring equals running the network on each pair by itself."""
    verifier = Verifier.load(random_verifier_dir)
    with one_thread():
        batched = verifier.score(Q1, Q2, batch_size=3)
        for q1, q2, p in zip(Q1, Q2, batched, strict=True):
            inputs = pair_inputs(
                verifier.tokenizer.tokenize([q1]), verifier.tokenizer.tokenize([q2]), verifier.encoder_config
            )
            with torch.no_grad():
                logit = verifier.encoder.eval().score_inputs(inputs).item()
            assert p == pytest.approx(sigmoid(np.array(logit / verifier.temperature)), abs=1e-6)
    scores, decisions = verifier.predict(Q1, Q2)
    assert np.array_equal(decisions, scores > verifier.threshold)


def test_pair_inputs_mark_the_two_questions() -> None:
    verifier = new_verifier(8, TINY_BERT)
    inputs = pair_inputs([[5, 6], [7]], [[8], [9, 10, 11]], verifier.encoder_config)
    cls, sep, pad = (
        verifier.encoder_config.cls_id,
        verifier.encoder_config.sep_id,
        verifier.encoder_config.pad_id,
    )
    assert inputs.input_ids.tolist() == [[cls, 5, 6, sep, 8, sep, pad], [cls, 7, sep, 9, 10, 11, sep]]
    assert inputs.attention_mask.tolist() == [[1, 1, 1, 1, 1, 1, 0], [1] * 7]
    assert inputs.token_type_ids.tolist() == [[0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1, 1]]


def test_a_call_holds_at_most_max_pairs(random_verifier_dir: Path) -> None:
    verifier = Verifier.load(random_verifier_dir)
    verifier.max_pairs = 3
    with pytest.raises(VerifyLimitError, match="at most 3"):
        verifier.score(Q1, Q2)
    with pytest.raises(ValueError, match="equal length"):
        verifier.score(Q1, Q2[:2])
    with pytest.raises(TypeError):
        verifier.score("How old are you?", "What is your age?")  # type: ignore[arg-type]


def test_save_and_load_keep_scores_threshold_and_temperature(random_verifier_dir: Path) -> None:
    verifier = Verifier.load(random_verifier_dir)
    assert (verifier.threshold, verifier.temperature) == (0.45, 1.5)
    names = {p.name for p in random_verifier_dir.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "checksums.sha256"} <= names
    assert not [p for p in random_verifier_dir.rglob("*") if p.suffix in {".pt", ".pth", ".pkl", ".bin"}]
    again = Verifier.load(random_verifier_dir)
    assert np.array_equal(verifier.score(Q1, Q2), again.score(Q1, Q2))


def test_load_names_what_is_wrong(random_verifier_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(VerifierLoadError, match="no verifier ships"):
        Verifier.load()
    with pytest.raises(VerifierLoadError, match="no verifier directory"):
        Verifier.load(tmp_path / "absent")
    broken = tmp_path / "broken"
    shutil.copytree(random_verifier_dir, broken)
    config = json.loads((broken / "config.json").read_text())
    (broken / "config.json").write_text(json.dumps({**config, "temperature": -1.0}))
    with pytest.raises(VerifierLoadError, match="temperature"):
        Verifier.load(broken)
    (broken / "config.json").write_text(json.dumps(config))
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(VerifierLoadError, match=r"model\.safetensors"):
        Verifier.load(broken)
