import numpy as np
import pytest
from sig_synthetic import synthetic_records

from siamdup.signatures.dtw import dtw_distances
from siamdup.signatures.evaluation import equal_error_rate, protocol_scores, protocol_trials


def slow_eer(genuine, impostor):
    best = None
    for t in [-np.inf, *sorted(set(genuine) | set(impostor))]:
        frr = sum(g <= t for g in genuine) / len(genuine)
        far = sum(i > t for i in impostor) / len(impostor)
        if best is None or abs(far - frr) < best[0]:
            best = (abs(far - frr), (far + frr) / 2, t)
    return best[1], best[2]


@pytest.mark.parametrize("seed", range(5))
def test_eer_matches_slow_loop(seed):
    rng = np.random.default_rng(seed)
    genuine = np.round(rng.normal(1, 1, size=37), 1)  # rounded: ties between and within classes
    impostor = np.round(rng.normal(0, 1, size=53), 1)
    eer, threshold = equal_error_rate(genuine, impostor)
    slow, slow_t = slow_eer(list(genuine), list(impostor))
    assert eer == pytest.approx(slow) and threshold == slow_t


def test_eer_extremes():
    assert equal_error_rate(np.array([2.0, 3.0]), np.array([0.0, 1.0]))[0] == 0
    assert equal_error_rate(np.array([0.0, 1.0]), np.array([2.0, 3.0]))[0] == 1


def slow_dtw(a, b):
    table = np.full((len(a) + 1, len(b) + 1), np.inf)
    table[0, 0] = 0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = np.linalg.norm(a[i - 1] - b[j - 1])
            table[i, j] = cost + min(table[i - 1, j], table[i, j - 1], table[i - 1, j - 1])
    return table[-1, -1] / (len(a) + len(b))


def test_dtw_matches_slow_loop():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(7, 9, 3)), rng.normal(size=(7, 12, 3))
    fast = dtw_distances(a, b)
    np.testing.assert_allclose(fast, [slow_dtw(x, y) for x, y in zip(a, b, strict=True)], rtol=1e-9)
    assert dtw_distances(a, a) == pytest.approx(np.zeros(7), abs=1e-6)


def test_protocol_trials_follow_svc2004():
    records = synthetic_records(range(1, 5))
    trials = protocol_trials(records, [1, 2, 3, 4], seed=3)
    for trial in trials:
        sessions = lambda idx: [records[i].session for i in idx]  # noqa: E731
        writers = {records[i].writer for i in trial.random}
        assert sessions(trial.pool) == list(range(1, 11))
        assert sessions(trial.genuine) == list(range(11, 21))
        assert sessions(trial.skilled) == list(range(21, 41))
        assert len(trial.random) == 20 and trial.writer not in writers and len(writers) == 3
        assert all(records[i].genuine for i in trial.random)
        assert len(trial.draws) == 10 and all(len(set(d)) == 5 and max(d) < 10 for d in trial.draws)
    again = protocol_trials(records, [1, 2, 3, 4], seed=3)
    assert [t.random for t in again] == [t.random for t in trials]


def test_protocol_scores_aggregate_each_draw():
    records = synthetic_records(range(1, 3))
    trials = protocol_trials(records, [1, 2], seed=0, draws=2)
    rng = np.random.default_rng(0)
    matrices = {t.writer: rng.normal(size=(10, len(t.candidates))) for t in trials}
    scores = protocol_scores(trials, lambda t: matrices[t.writer], "max", "none")
    assert len(scores.genuine) == 2 * 2 * 10 and len(scores.skilled) == 80 and len(scores.random) == 80
    first = trials[0]
    expected = matrices[first.writer][first.draws[0]][:, 10:20].max(axis=0)
    np.testing.assert_allclose(scores.genuine[:10], expected)


def test_fusion_standardises_each_verifier():
    from siamdup.signatures.benchmark import fuse
    from siamdup.signatures.evaluation import ProtocolScores

    rng = np.random.default_rng(1)
    a = ProtocolScores(rng.normal(1, 1, 50), rng.normal(0, 1, 80), rng.normal(-1, 1, 80))
    scaled = ProtocolScores(a.genuine * 1000 + 5, a.skilled * 1000 + 5, a.random * 1000 + 5)
    fused = fuse(a, scaled)  # the same ranking in other units: fusing changes nothing
    assert fused.figures()["skilled_eer"] == pytest.approx(a.figures()["skilled_eer"])
    pooled = np.concatenate([a.genuine, a.skilled, a.random])
    np.testing.assert_allclose(fused.genuine, (a.genuine - pooled.mean()) / pooled.std(), rtol=1e-9)
