import json
from pathlib import Path

import numpy as np
import pytest
from helpers import FORUM_QUESTIONS, synthetic_pairs

from siamdup import Siamese
from siamdup.index import DuplicateIndex, HNSWSettings, IndexLoadError, IndexUpdateError
from siamdup.index import duplicate_index as module


@pytest.fixture
def forum(shipped_model: Siamese) -> DuplicateIndex:
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    return index


def brute_force(model: Siamese, stored: dict[str, str], question: str, k: int) -> list[tuple[str, float]]:
    """A plain loop: cosine of the question with every stored question, sorted."""
    q = model.encode([question])[0]
    scores = []
    for qid, text in stored.items():
        v = model.encode([text])[0]
        scores.append((qid, float(np.dot(q, v) / (np.linalg.norm(q) * np.linalg.norm(v)))))
    return sorted(scores, key=lambda s: -s[1])[:k]


def test_exact_query_matches_a_brute_force_loop(forum: DuplicateIndex, shipped_model: Siamese) -> None:
    for question in ("How do I learn Python?", "cheap plane tickets", "What is France's capital city?"):
        got = forum.query(question, k=4)
        expected = brute_force(shipped_model, FORUM_QUESTIONS, question, 4)
        assert [m.id for m in got] == [e[0] for e in expected]
        np.testing.assert_allclose([m.similarity for m in got], [e[1] for e in expected], atol=1e-5)
        assert all(m.duplicate == (m.similarity > shipped_model.threshold) for m in got)
        assert all(m.text == FORUM_QUESTIONS[m.id] for m in got)
    assert forum.query("How do I learn Python?", k=1)[0].duplicate


def test_k_larger_than_the_store_returns_everything(forum: DuplicateIndex) -> None:
    assert len(forum.query("anything?", k=50)) == len(FORUM_QUESTIONS)
    with pytest.raises(ValueError, match="k must be at least 1"):
        forum.query("anything?", k=0)


def test_add_refuses_bad_batches_and_changes_nothing(forum: DuplicateIndex) -> None:
    with pytest.raises(IndexUpdateError, match=r"1 id\(s\) already stored: 'py'"):
        forum.add(["new", "py"], ["a new question?", "another"])
    with pytest.raises(IndexUpdateError, match="repeated in this batch"):
        forum.add(["x", "x"], ["one?", "two?"])
    with pytest.raises(IndexUpdateError, match="empty question text"):
        forum.add(["x"], ["   "])
    with pytest.raises(IndexUpdateError, match="2 ids for 1 texts"):
        forum.add(["x", "y"], ["one?"])
    assert len(forum) == len(FORUM_QUESTIONS) and "new" not in forum
    assert forum._faiss.ntotal == len(FORUM_QUESTIONS)


def test_one_shot_add_and_remove(forum: DuplicateIndex) -> None:
    forum.add(["tea"], ["How do I make green tea?"])
    assert forum.query("What is the best way to brew green tea?", k=1)[0].id == "tea"
    forum.remove(["tea", "py"])
    ids = {m.id for m in forum.query("How do I learn Python?", k=50)}
    assert ids == set(FORUM_QUESTIONS) - {"py"}
    with pytest.raises(IndexUpdateError, match=r"1 id\(s\) not in the index: 'nope'"):
        forum.remove(["rice", "nope"])
    assert "rice" in forum


def test_save_load_round_trip_and_compaction(forum: DuplicateIndex, tmp_path: Path) -> None:
    forum.remove(["rice"])
    before = forum.query("How do I learn Python?", k=3)
    forum.save(tmp_path / "ix")
    loaded = DuplicateIndex.load(tmp_path / "ix")  # its model is found from the manifest
    assert loaded.query("How do I learn Python?", k=3) == before
    assert len(loaded) == len(FORUM_QUESTIONS) - 1 and "rice" not in loaded
    assert loaded.info()["removed_rows"] == 0  # exact indexes drop removed rows when saved
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    assert manifest["format"] == "siamdup-index" and manifest["model"]["path"] is None


def test_load_refuses_another_model(forum: DuplicateIndex, tiny_model_dir: Path, tmp_path: Path) -> None:
    forum.save(tmp_path / "ix")
    with pytest.raises(IndexLoadError, match="built with another model"):
        DuplicateIndex.load(tmp_path / "ix", Siamese.load(tiny_model_dir))


def test_load_refuses_truncated_or_missing_files(forum: DuplicateIndex, tmp_path: Path) -> None:
    forum.save(tmp_path / "ix")
    vectors = tmp_path / "ix" / "vectors.faiss"
    data = vectors.read_bytes()
    vectors.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexLoadError, match=r"vectors.faiss has .* bytes, the manifest says .*truncated"):
        DuplicateIndex.load(tmp_path / "ix")
    vectors.unlink()
    with pytest.raises(IndexLoadError, match=r"vectors\.faiss is missing"):
        DuplicateIndex.load(tmp_path / "ix")
    with pytest.raises(IndexLoadError, match="not a siamdup index"):
        DuplicateIndex.load(tmp_path / "nothing-here")
    (tmp_path / "ix" / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(IndexLoadError, match="unsupported index format"):
        DuplicateIndex.load(tmp_path / "ix")


def test_entries_and_vectors_out_of_step_are_refused(forum: DuplicateIndex, tmp_path: Path) -> None:
    forum.save(tmp_path / "ix")
    entries = tmp_path / "ix" / "entries.jsonl"
    entries.write_text("".join(entries.read_text().splitlines(keepends=True)[:-1]))  # one row lost
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    manifest["rows"] -= 1
    manifest["file_sizes"]["entries.jsonl"] = entries.stat().st_size  # as if the manifest agreed
    (tmp_path / "ix" / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "ix" / "checksums.sha256").unlink()  # as if saved before checksums, which would tell
    with pytest.raises(IndexLoadError, match="7 entries for 8 vectors"):
        DuplicateIndex.load(tmp_path / "ix")


def test_journal_survives_a_restart_and_is_folded_in_on_save(forum: DuplicateIndex, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="journal=True needs an index that was saved"):
        forum.add(["tea"], ["How do I make green tea?"], journal=True)
    forum.save(tmp_path / "ix")
    forum.add(["tea"], ["How do I make green tea?"], journal=True)
    forum.remove(["paris"], journal=True)
    journal = tmp_path / "ix" / "journal.jsonl"
    with open(journal, "a") as f:
        f.write('{"op": "add", "id": "cut sh')  # a write cut short by a crash
    torn = DuplicateIndex.load(tmp_path / "ix")  # as after a restart: the torn line is counted, skipped
    assert torn.replayed == 2 and torn.journal_damaged == 1
    forum.add(["coffee"], ["How do I make coffee?"], journal=True)  # the next write drops the torn line
    assert "cut sh" not in journal.read_text()

    reloaded = DuplicateIndex.load(tmp_path / "ix")
    assert reloaded.replayed == 3 and reloaded.journal_damaged == 0
    assert "tea" in reloaded and "coffee" in reloaded and "paris" not in reloaded
    reloaded.save()
    assert [json.loads(line)["op"] for line in journal.read_text().splitlines()] == ["base"]  # no change left
    again = DuplicateIndex.load(tmp_path / "ix")
    assert again.replayed == 0 and sorted(m.id for m in again.query("x", k=50)) == sorted(
        set(FORUM_QUESTIONS) - {"paris"} | {"tea", "coffee"}
    )


def _unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_hnsw_recall_against_exact(shipped_model: Siamese) -> None:
    vectors = _unit_vectors(4000, shipped_model.dim, 0)
    ids = [str(i) for i in range(len(vectors))]
    texts = [f"q{i}" for i in ids]
    exact = DuplicateIndex(shipped_model, kind="exact")
    exact.add(ids, texts, vectors=vectors)
    hnsw = DuplicateIndex(shipped_model, kind="hnsw", hnsw=HNSWSettings(ef_search=128))
    hnsw.add(ids, texts, vectors=vectors)
    assert hnsw.search_kind == "hnsw" and exact.search_kind == "exact"
    queries = _unit_vectors(200, shipped_model.dim, 1)
    _, truth = exact.search(queries, 10)
    _, found = hnsw.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95, recall


def test_hnsw_skips_removed_rows_and_compacts_when_many_are_removed(
    shipped_model: Siamese, tmp_path: Path
) -> None:
    vectors = _unit_vectors(1000, shipped_model.dim, 2)
    index = DuplicateIndex(shipped_model, kind="hnsw")
    index.add([str(i) for i in range(1000)], [f"q{i}" for i in range(1000)], vectors=vectors)
    index.remove(["0", "1", "2"])
    _, rows = index.search(vectors[:3], 5)
    assert not {0, 1, 2} & set(rows.ravel().tolist())
    scores, rows = index.search(vectors[3:4], 1)
    assert index.matches(scores[0], rows[0])[0].id == "3"
    index.save(tmp_path / "few")  # 3 of 1000 removed: kept in the graph, filtered at search
    assert DuplicateIndex.load(tmp_path / "few").info()["removed_rows"] == 3
    index.remove([str(i) for i in range(3, 400)])
    index.save(tmp_path / "many")  # 40% removed: rebuilt without them
    loaded = DuplicateIndex.load(tmp_path / "many")
    assert loaded.info()["removed_rows"] == 0 and len(loaded) == 600
    scores, rows = loaded.search(vectors[500:501], 1)
    assert loaded.matches(scores[0], rows[0])[0].id == "500"


def test_auto_switches_to_hnsw_past_the_exact_limit(shipped_model: Siamese, monkeypatch) -> None:
    monkeypatch.setattr(module, "EXACT_MAX", 100)
    index = DuplicateIndex(shipped_model)
    texts = sorted({q for _, a, b in synthetic_pairs(0, 40) for q in (a, b)})[:150]
    index.add([str(i) for i in range(80)], texts[:80])
    assert index.search_kind == "exact"
    index.add([str(i) for i in range(80, 150)], texts[80:150])
    assert index.search_kind == "hnsw" and len(index) == 150
    for i in (0, 79, 80, 149):  # rows from before and after the switch are found as themselves
        assert index.query(texts[i], k=1)[0].id == str(i)
