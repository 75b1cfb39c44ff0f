"""The writer-normalised scores and their fusion, each checked against a plain loop of what the docs say."""

import numpy as np
import pytest
from sig_synthetic import synthetic_records, synthetic_signature
from test_signature_evaluation import slow_dtw

from siamdup.signatures.evaluation import ProtocolScores
from siamdup.signatures.fusion import DTW_FEATURES, FusionRule, dtw_scores
from siamdup.signatures.kfold import writer_folds
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.scoring import SPREAD_FLOOR, aggregate
from siamdup.signatures.tuning import calibrate_fusion, fuse_on_dev
from siamdup.trajectory.features import FeatureConfig, feature_batch


def slow_normalised(to_query, among, aggregation, normalisation):
    """The score of each query as documented: max or mean over the references, minus the mean over
    the references' pairs (i < j), divided by their spread plus the floor for "reference-z"."""
    k, m = to_query.shape
    pairs = [among[i][j] for i in range(k) for j in range(i + 1, k)]
    mean = sum(pairs) / len(pairs)
    spread = (sum((p - mean) ** 2 for p in pairs) / len(pairs)) ** 0.5
    out = []
    for q in range(m):
        column = [to_query[i][q] for i in range(k)]
        score = max(column) if aggregation == "max" else sum(column) / k
        if normalisation != "none":
            score -= mean
        if normalisation == "reference-z":
            score /= spread + SPREAD_FLOOR
        out.append(score)
    return out


@pytest.mark.parametrize("aggregation", ["max", "mean"])
@pytest.mark.parametrize("normalisation", ["none", "reference-spread", "reference-z"])
def test_user_normalisation_matches_a_plain_loop(aggregation, normalisation):
    rng = np.random.default_rng(3)
    to_query, among = rng.normal(size=(5, 7)), rng.normal(size=(5, 5))
    among = (among + among.T) / 2
    fast = aggregate(to_query, among, aggregation, normalisation)
    np.testing.assert_allclose(fast, slow_normalised(to_query, among, aggregation, normalisation))


def test_dtw_score_is_the_log_distance_ratio_to_the_references():
    rng = np.random.default_rng(0)
    references, queries = rng.normal(size=(4, 9, 3)), rng.normal(size=(3, 9, 3))
    got = dtw_scores(references, queries)
    for q, query in enumerate(queries):
        to_query = [-np.log(slow_dtw(r, query) + 1e-9) for r in references]
        pairs = [
            -np.log(slow_dtw(references[i], references[j]) + 1e-9) for i in range(4) for j in range(i + 1, 4)
        ]
        assert got[q] == pytest.approx(np.mean(to_query) - np.mean(pairs), rel=1e-9)


def test_fused_rule_scores_as_documented():
    model = SignatureModel.untrained(
        seed=1, d_model=16, length=32, aggregation="mean", normalisation="reference-z"
    )
    model.fusion = FusionRule(weight=0.3, model_mean=0.2, model_std=0.5, dtw_mean=-1.0, dtw_std=2.0)
    references = [synthetic_signature(1, s) for s in range(1, 6)]
    query = synthetic_signature(1, 25)
    vectors = model.embed([*references, query])
    sims = vectors[:5] @ vectors[5]
    pairs = [float(vectors[i] @ vectors[j]) for i in range(5) for j in range(i + 1, 5)]
    learned = (np.mean(sims) - np.mean(pairs)) / (np.std(pairs) + SPREAD_FLOOR)
    steps = feature_batch([*references, query], DTW_FEATURES)
    distance = lambda a, b: -np.log(slow_dtw(a, b) + 1e-9)  # noqa: E731
    dtw = np.mean([distance(r, steps[5]) for r in steps[:5]]) - np.mean(
        [distance(steps[i], steps[j]) for i in range(5) for j in range(i + 1, 5)]
    )
    expected = 0.3 * (learned - 0.2) / 0.5 + 0.7 * (dtw + 1.0) / 2.0
    assert model.score_signatures(references, query) == pytest.approx(expected, abs=1e-4)
    with pytest.raises(ValueError, match="score_signatures"):
        model.score(vectors[:5], vectors[5])  # the learned score alone is not what τ is for


def test_standardised_features_have_zero_mean_and_unit_spread():
    steps = feature_batch(
        [synthetic_signature(2, 1)], FeatureConfig(32, ("vx", "curvature", "pressure"), True)
    )[0]
    np.testing.assert_allclose(steps.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(steps.std(axis=0), 1, atol=1e-3)


def test_calibration_leans_on_the_verifier_that_separates():
    rng = np.random.default_rng(2)
    good = ProtocolScores(rng.normal(3, 1, 100), rng.normal(0, 1, 200), rng.normal(-3, 1, 200))
    noise = ProtocolScores(rng.normal(0, 1, 100), rng.normal(0, 1, 200), rng.normal(0, 1, 200))
    rule, figures = calibrate_fusion(good, noise)
    assert rule.weight >= 0.8 and figures["skilled_eer"] <= good.figures()["skilled_eer"] + 0.02
    rule, _ = calibrate_fusion(noise, good)
    assert rule.weight <= 0.2


def test_fused_model_saves_and_loads_its_rule(tmp_path):
    records = synthetic_records(range(1, 4))
    model = SignatureModel.untrained(seed=0, d_model=8, length=16)
    figures = fuse_on_dev(model, records, [1, 2, 3])
    assert model.fusion is not None and model.threshold == pytest.approx(figures["skilled_threshold"])
    model.save(tmp_path / "m")
    loaded = SignatureModel.load(tmp_path / "m")
    assert loaded.fusion == model.fusion and loaded.threshold == model.threshold
    references, query = [r.trajectory for r in records[:5]], records[12].trajectory
    assert loaded.score_signatures(references, query) == pytest.approx(
        model.score_signatures(references, query)
    )


def test_writer_folds_are_disjoint_and_score_everyone_once():
    folds = writer_folds(list(range(1, 31)), 3)
    assert sorted(w for f in folds for w in f.scored) == list(range(1, 31))
    for fold in folds:
        assert not set(fold.scored) & set(fold.train) and not set(fold.scored) & set(fold.inner_dev)
        assert not set(fold.train) & set(fold.inner_dev) and len(fold.inner_dev) == 5
        assert sorted(fold.scored + fold.train + fold.inner_dev) == list(range(1, 31))
    with pytest.raises(ValueError):
        writer_folds(list(range(1, 5)), 3)
