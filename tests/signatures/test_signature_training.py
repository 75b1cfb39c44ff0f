import itertools
from collections import Counter

import numpy as np
import pytest
import torch
from sig_synthetic import synthetic_records

from siamdup.signatures.evaluation import embedding_similarity, protocol_scores, protocol_trials
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.training import (
    SignatureTrainSettings,
    _group,
    train_signatures,
    writer_batches,
)


def test_batches_never_hold_a_writer_twice():
    records = synthetic_records(range(1, 9), sessions=range(1, 41, 3))
    settings = SignatureTrainSettings(writers_per_batch=5, forgeries_per_writer=2, steps_per_epoch=30)
    for anchors, positives, negatives in writer_batches(
        _group(records, list(range(1, 9))), settings, np.random.default_rng(0)
    ):
        assert len(anchors) == 5 and max(Counter(r.writer for r in anchors).values()) == 1
        assert [r.writer for r in anchors] == [r.writer for r in positives]
        assert all(
            a.genuine and p.genuine and a.session != p.session
            for a, p in zip(anchors, positives, strict=True)
        )
        assert all(not n.genuine for n in negatives) and {n.writer for n in negatives} <= {
            a.writer for a in anchors
        }


def test_tiny_model_separates_synthetic_writers(tmp_path):
    torch.set_num_threads(1)
    records = synthetic_records(range(1, 13))
    settings = SignatureTrainSettings(
        epochs=3,
        steps_per_epoch=15,
        writers_per_batch=8,
        d_model=16,
        length=32,
        augment=False,
        seed=0,
        channels=("x", "y", "dx", "dy", "pressure"),  # shape only: the synthetic forgers' speed is a giveaway
    )
    train_writers, dev_writers = list(range(1, 9)), list(range(9, 13))
    dev_records = [r for r in records if r.writer in dev_writers]
    trials = protocol_trials(dev_records, dev_writers, seed=0)
    untrained = SignatureModel.untrained(0, **settings.model_settings())
    before = protocol_scores(
        trials, embedding_similarity(untrained.embed([r.trajectory for r in dev_records]))
    )
    metrics = train_signatures(records, train_writers, dev_writers, tmp_path / "m", settings)
    model = SignatureModel.load(tmp_path / "m")
    after = protocol_scores(
        trials,
        embedding_similarity(model.embed([r.trajectory for r in dev_records])),
        model.aggregation,
        model.normalisation,
    ).figures()
    assert after["skilled_eer"] < 0.15 and after["random_eer"] < 0.05
    assert after["skilled_eer"] < before.figures()["skilled_eer"]
    assert metrics["best"]["skilled_eer"] == pytest.approx(after["skilled_eer"], abs=1e-6)
    assert model.metadata["dev_writers"] == dev_writers and model.fusion is not None
    assert model.threshold == pytest.approx(metrics["best"]["fused"]["skilled_threshold"])


def test_cosine_schedule_runs_from_the_rate_to_zero():
    from siamdup.signatures.training import learning_rate

    settings = SignatureTrainSettings(epochs=4, steps_per_epoch=10, learning_rate=0.01, schedule="cosine")
    rates = [learning_rate(settings, e, s) for e in range(1, 5) for s in range(10)]
    assert rates[0] == 0.01 and rates[20] == pytest.approx(0.005) and rates[-1] < 0.0001
    assert all(b <= a for a, b in itertools.pairwise(rates))
    assert learning_rate(SignatureTrainSettings(learning_rate=0.01), 3, 5) == 0.01
