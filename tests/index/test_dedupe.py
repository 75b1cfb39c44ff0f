import csv
from pathlib import Path

import numpy as np
from helpers import synthetic_pairs

from siamdup import Siamese
from siamdup.index import dedupe


def brute_force_groups(model: Siamese, texts: list[str], tau: float) -> list[list[int]]:
    """Every pair compared in a plain loop; the question with most duplicates is the next centre."""
    vectors = model.encode(texts)
    n = len(texts)
    duplicates = {i: [] for i in range(n)}
    for i in range(n):
        for j in range(n):
            similarity = float(np.dot(vectors[i], vectors[j]))
            if i != j and similarity > tau:
                duplicates[i].append((similarity, j))
    grouped: set[int] = set()
    groups = []
    for centre in sorted(range(n), key=lambda i: (-len(duplicates[i]), i)):
        if centre in grouped:
            continue
        members = [j for _, j in sorted(duplicates[centre], key=lambda d: -d[0]) if j not in grouped]
        if members:
            groups.append([centre, *members])
            grouped.update(groups[-1])
    return sorted(groups, key=lambda g: -len(g))  # stable: ties keep the order they were made in


def corpus() -> list[str]:
    return sorted({q for _, a, b in synthetic_pairs(0, 60) for q in (a, b)})


def test_exact_dedupe_with_all_neighbours_equals_brute_force(shipped_model: Siamese) -> None:
    texts = corpus()
    for tau in (0.6, 0.8, 0.9):
        result = dedupe(shipped_model, texts, threshold=tau, k=len(texts), kind="exact")
        expected = brute_force_groups(shipped_model, texts, tau)
        assert expected, "the corpus should have duplicates at this τ"
        assert result.groups == expected
        assert result.threshold == tau and result.n_questions == len(texts)
        assert result.n_grouped == sum(len(g) for g in expected)
        for group, similarities in zip(result.groups, result.similarities, strict=True):
            vectors = shipped_model.encode([texts[i] for i in group])
            np.testing.assert_allclose(similarities, vectors @ vectors[0], atol=1e-5)
            assert min(similarities) > tau  # every member is a duplicate of its centre


def test_default_threshold_is_the_models_and_groups_make_sense(shipped_model: Siamese) -> None:
    texts = ["How do I learn Python?", "What is the best way to learn Python?", "How do I cook rice?"]
    result = dedupe(shipped_model, texts)
    assert result.threshold == shipped_model.threshold
    assert result.groups == [[0, 1]] and result.n_links == 1


def test_hnsw_dedupe_agrees_with_exact_on_a_corpus(shipped_model: Siamese) -> None:
    texts = corpus()
    exact = dedupe(shipped_model, texts, k=10, kind="exact")
    approximate = dedupe(shipped_model, texts, k=10, kind="hnsw")
    assert approximate.groups == exact.groups


def test_write_csv(shipped_model: Siamese, tmp_path: Path) -> None:
    texts = ["How do I learn Python?", "How do I cook rice?", "What is the best way to learn Python?"]
    result = dedupe(shipped_model, texts)
    out = tmp_path / "groups.csv"
    result.write_csv(out, ["a", "b", "c"], texts)
    rows = list(csv.DictReader(out.open()))
    similarity = f"{result.similarities[0][1]:.4f}"
    assert rows == [
        {"group": "1", "size": "2", "id": "a", "text": texts[0], "similarity": "1.0000"},
        {"group": "1", "size": "2", "id": "c", "text": texts[2], "similarity": similarity},
    ]
    assert not (tmp_path / "groups.csv.partial").exists()
