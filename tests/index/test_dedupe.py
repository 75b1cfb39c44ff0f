import csv
import itertools
from pathlib import Path

import numpy as np

from siamdup import Siamese
from siamdup.data.clusters import UnionFind
from siamdup.index import dedupe
from tests.conftest import synthetic_pairs


def brute_force_groups(model: Siamese, texts: list[str], tau: float) -> list[list[int]]:
    """Every pair compared in a plain loop, linked above τ, joined transitively."""
    vectors = model.encode(texts)
    uf = UnionFind()
    for i, j in itertools.combinations(range(len(texts)), 2):
        uf.find(str(i)), uf.find(str(j))
        if float(np.dot(vectors[i], vectors[j])) > tau:
            uf.union(str(i), str(j))
    groups: dict[str, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(uf.find(str(i)), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: (-len(g), g[0]))


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
    assert rows == [
        {"group": "1", "size": "2", "id": "a", "text": texts[0]},
        {"group": "1", "size": "2", "id": "c", "text": texts[2]},
    ]
    assert not (tmp_path / "groups.csv.partial").exists()
