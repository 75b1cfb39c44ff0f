import json

import numpy as np
import pytest
from sig_synthetic import synthetic_signature

from siamdup.signatures.model import SignatureModel, SignatureModelLoadError


def test_embed_unit_vectors_and_score():
    model = SignatureModel.untrained(seed=1, d_model=16, length=32)
    signatures = [synthetic_signature(1, s) for s in range(1, 7)]
    vectors = model.embed(signatures)
    assert vectors.shape == (6, 16) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    refs, query = vectors[:5], vectors[5]
    sims = refs @ query
    assert model.score(refs, query) == pytest.approx(sims.max())
    model.aggregation = "mean"
    assert model.score(refs, query) == pytest.approx(sims.mean())
    model.normalisation = "reference-spread"
    between = refs @ refs.T
    spread = between[np.triu_indices(5, 1)].mean()
    assert model.score(refs, query) == pytest.approx(sims.mean() - spread, abs=1e-6)
    model.threshold = 0.2
    assert model.decide(0.21) and not model.decide(0.2)
    with pytest.raises(TypeError):
        model.embed(signatures[0])


def test_save_load_round_trip(tmp_path):
    model = SignatureModel.untrained(seed=2, d_model=8, length=16, aggregation="mean", threshold=0.3)
    model.metadata = {"dev_writers": [21, 22]}
    model.save(tmp_path / "m")
    loaded = SignatureModel.load(tmp_path / "m")
    signatures = [synthetic_signature(3, s) for s in (1, 2)]
    np.testing.assert_array_equal(loaded.embed(signatures), model.embed(signatures))
    assert (loaded.threshold, loaded.aggregation, loaded.metadata["dev_writers"]) == (0.3, "mean", [21, 22])
    assert (tmp_path / "m" / "checksums.sha256").exists()


def test_load_refuses_bad_directories(tmp_path):
    with pytest.raises(SignatureModelLoadError, match="no signature model"):
        SignatureModel.load(tmp_path / "absent")
    SignatureModel.untrained(d_model=8, length=16).save(tmp_path / "m")
    config = tmp_path / "m" / "config.json"
    data = json.loads(config.read_text())
    data["aggregation"] = "median"
    config.write_text(json.dumps(data))
    with pytest.raises(SignatureModelLoadError, match="aggregation"):
        SignatureModel.load(tmp_path / "m")
    width = data["encoder"]["in_features"]
    data["aggregation"], data["encoder"]["in_features"] = "max", width + 1
    config.write_text(json.dumps(data))
    with pytest.raises(SignatureModelLoadError, match="in_features"):
        SignatureModel.load(tmp_path / "m")
    data["encoder"]["in_features"] = width
    config.write_text(json.dumps(data))
    weights = tmp_path / "m" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    with pytest.raises(SignatureModelLoadError, match=r"model\.safetensors"):
        SignatureModel.load(tmp_path / "m")
