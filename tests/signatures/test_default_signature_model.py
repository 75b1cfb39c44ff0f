from pathlib import Path

import numpy as np
import pytest

from siamdup.signatures.model import SignatureModel, default_signature_model_path
from siamdup.trajectory.svc2004 import load_svc2004

SVC2004 = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "signatures" / "svc2004"


def test_shipped_model_loads_small_and_dev_tuned():
    path = default_signature_model_path()
    assert sum(f.stat().st_size for f in path.iterdir()) < 5 * 2**20
    model = SignatureModel.load()
    train, dev = set(model.metadata["train_writers"]), set(model.metadata["dev_writers"])
    assert not train & dev and not (train | dev) & set(range(21, 31))  # the guide's writers are unseen
    assert model.fusion is not None and model.features.standardise


def test_shipped_model_tells_genuine_from_forgeries_of_an_unseen_writer():
    if not (SVC2004 / "svc2004_task2.tar.gz").exists():
        pytest.skip(f"SVC2004 data not found at {SVC2004.resolve()}")
    model = SignatureModel.load()
    records = load_svc2004(SVC2004, {27})
    vectors = model.embed([r.trajectory for r in records])
    references = vectors[:5]
    genuine = model.score_many(references, vectors[10:20])
    skilled = model.score_many(references, vectors[20:40])
    # the share of (genuine, forgery) pairs ranked right: an AUC for this one writer
    assert np.mean(genuine[:, None] > skilled[None, :]) > 0.8
    signatures = [r.trajectory for r in records]
    rule = [model.score_signatures(signatures[:5], s, vectors[:5]) for s in signatures[10:40]]
    assert np.mean(np.array(rule[:10])[:, None] > np.array(rule[10:])[None, :]) > 0.9
