import numpy as np
import pytest
from helpers import synthetic_pairs

from siamdup import Siamese
from siamdup.data.readers import Pair
from siamdup.evaluate import RetrievalEvaluator


def brute_force(model: Siamese, pairs: list[Pair]) -> dict:
    """Rank every distinct question for each duplicate pair in a plain loop."""
    corpus = list(dict.fromkeys(q for p in pairs for q in (p.question1, p.question2)))
    vectors = {q: model.encode([q])[0] for q in corpus}
    hits1 = hits10 = reciprocal = n = 0
    for p in pairs:
        if p.label != 1 or p.question1 == p.question2:
            continue
        n += 1
        target = float(vectors[p.question1] @ vectors[p.question2])
        rank = 1
        for q in corpus:
            if (
                q not in (p.question1, p.question2)
                and float(vectors[p.question1] @ vectors[q]) >= target - 1e-6
            ):
                rank += 1
        hits1 += rank == 1
        hits10 += rank <= 10
        reciprocal += 1 / rank if rank <= 10 else 0
    return {"recall@1": hits1 / n, "recall@10": hits10 / n, "mrr@10": reciprocal / n, "n_queries": n}


def test_retrieval_metrics_match_a_brute_force_loop(shipped_model: Siamese) -> None:
    pairs = [Pair(a, b, label) for label, a, b in synthetic_pairs(3, 40)]
    pairs.append(Pair("same text", "same text", 1))  # cannot be a query: it would find itself
    got = RetrievalEvaluator(pairs, name="synthetic")(shipped_model)
    expected = brute_force(shipped_model, pairs)
    assert got["primary_metric"] == "mrr@10" and got["name"] == "synthetic"
    assert got["n_queries"] == expected["n_queries"] == sum(p.label for p in pairs) - 1
    for metric in ("recall@1", "recall@10", "mrr@10"):
        assert got[metric] == pytest.approx(expected[metric]), metric
    assert 0 < got["recall@1"] < got["recall@10"] <= 1  # neither trivial nor impossible


def test_ties_count_against_the_answer() -> None:
    pairs = [Pair("a", "b", 1), Pair("c", "d", 0)]
    evaluator = RetrievalEvaluator(pairs)
    flat = evaluator.from_scores(lambda rows: np.zeros((len(rows), 4)))  # every candidate ties
    assert flat["recall@1"] == 0 and flat["mrr@10"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="at least one duplicate pair"):
        RetrievalEvaluator([Pair("a", "b", 0)])
