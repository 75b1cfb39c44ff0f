"""`dedupe --against`: the questions of one set that duplicate a question of another, against brute force."""

import csv
from pathlib import Path

import faiss
import numpy as np
from helpers import FORUM_QUESTIONS
from scale_samples import clustered_vectors
from typer.testing import CliRunner

from siamdup import Siamese
from siamdup.cli import app
from siamdup.scale.against import find_against


def brute_force(vectors: np.ndarray, other: np.ndarray, tau: float, k: int) -> set[tuple[int, int]]:
    """Every pair compared in a loop; a question keeps its k most similar others above τ."""
    pairs = set()
    for i, v in enumerate(vectors):
        scored = sorted(((float(np.dot(v, w)), j) for j, w in enumerate(other)), reverse=True)[:k]
        pairs |= {(i, j) for score, j in scored if score > tau}
    return pairs


def test_find_against_equals_brute_force() -> None:
    vectors = clustered_vectors(700, dim=16, clusters=150, seed=1)
    questions, other = vectors[:200], vectors[200:]
    index = faiss.IndexFlatIP(16)
    index.add(other)
    for tau, k in ((0.9, 3), (0.8, 10), (0.95, 500)):
        leaks = find_against(index.search, questions, len(other), tau, k)
        expected = brute_force(questions, other, tau, k)
        assert (
            expected and set(zip(leaks.question.tolist(), leaks.duplicate.tolist(), strict=True)) == expected
        )
        assert len(leaks.question) == len(expected)
        np.testing.assert_allclose(
            leaks.similarity,
            np.einsum("ij,ij->i", questions[leaks.question], other[leaks.duplicate]),
            atol=1e-5,
        )
        assert leaks.n_leaking == len({i for i, _ in expected})


def test_against_command_lists_the_leaked_questions(tmp_path: Path, shipped_model: Siamese) -> None:
    train = tmp_path / "train.csv"
    train.write_text("qid,text\n" + "".join(f"{k},{v}\n" for k, v in FORUM_QUESTIONS.items()))
    test = tmp_path / "test.tsv"
    test.write_text(
        "id\tquestion\nt1\tHow do you cook rice?\nt2\tWhat is the capital city of France?\nt3\tWho painted the Mona Lisa?\n"
    )
    out = tmp_path / "leaks.csv"
    result = CliRunner().invoke(
        app,
        [
            str(a)
            for a in (
                "dedupe",
                "--input",
                test,
                "--text-column",
                "question",
                "--id-column",
                "id",
                "--against",
                train,
                "--against-id-column",
                "qid",
                "--against-text-column",
                "text",
                "--out",
                out,
                "-k",
                1,
            )
        ],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    texts = ["How do you cook rice?", "What is the capital city of France?", "Who painted the Mona Lisa?"]
    train_vectors = shipped_model.encode(list(FORUM_QUESTIONS.values()))
    expected = []
    for qid, vector in zip(["t1", "t2", "t3"], shipped_model.encode(texts), strict=True):
        scores = train_vectors @ vector
        if scores.max() > shipped_model.threshold:
            expected.append((qid, list(FORUM_QUESTIONS)[int(scores.argmax())]))
    assert [(r["id"], r["duplicate_id"]) for r in rows] == expected
    assert ("t1", "rice") in expected and ("t2", "paris") in expected
    assert (
        f"{len(expected)} of 3 questions duplicate one of the {len(FORUM_QUESTIONS)} others" in result.output
    )
