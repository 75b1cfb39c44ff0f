"""The switch to HNSW runs beside the served index, and the journal is folded into the saved one."""

import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import FORUM_QUESTIONS

from siamdup import Siamese
from siamdup.index import DuplicateIndex, background, duplicate_index
from siamdup.serve import ServiceSettings, create_app
from siamdup.serve.store import ServedIndex

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATIENCE = 120  # seconds; only reached when the code under test is broken


@pytest.fixture
def index_dir(shipped_model: Siamese, tmp_path: Path) -> Path:
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    return index.save(tmp_path / "ix")


def add(client: TestClient, questions: dict[str, str]) -> None:
    body = {"questions": [{"id": i, "text": t} for i, t in questions.items()]}
    response = client.post("/index", headers=AUTH, json=body)
    assert response.status_code == 201, response.text


def top_id(client: TestClient, question: str) -> str:
    response = client.post("/duplicates", json={"question": question, "k": 3})
    assert response.status_code == 200, response.text
    return response.json()["matches"][0]["id"]


def test_queries_and_adds_are_answered_while_the_hnsw_graph_is_built(
    shipped_model: Siamese, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duplicate_index, "EXACT_MAX", len(FORUM_QUESTIONS))
    building, release = threading.Event(), threading.Event()
    real_build_graph = background.build_graph

    def held_build_graph(*args, **kwargs):
        building.set()
        assert release.wait(PATIENCE)
        return real_build_graph(*args, **kwargs)

    monkeypatch.setattr(background, "build_graph", held_build_graph)
    app = create_app(shipped_model, DuplicateIndex.load(index_dir, shipped_model), TOKEN)
    with TestClient(app) as client:
        add(client, {"tea": "How do I make green tea?"})  # one past the limit: the build starts
        assert building.wait(PATIENCE)
        index = client.get("/health").json()["index"]
        assert index["search"] == "exact" and index["switching_to_hnsw"] is True
        assert top_id(client, "How do I learn Python?") == "py"  # answered while the build is held
        add(client, {"bread": "How do I bake bread at home?", "bike": "How do I fix a flat bike tyre?"})
        assert top_id(client, "What is the best way to make green tea?") == "tea"
        release.set()
        assert app.state.store.switch.wait(PATIENCE)
        index = client.get("/health").json()["index"]
        assert index["search"] == "hnsw" and index["switching_to_hnsw"] is False
        assert index["questions"] == len(FORUM_QUESTIONS) + 3
        assert top_id(client, "How can I bake my own bread?") == "bread"  # added during the build
        assert top_id(client, "How to repair a bike tyre puncture?") == "bike"
        assert top_id(client, "How do I learn Python?") == "py"
    restarted = DuplicateIndex.load(index_dir, shipped_model)  # shutdown folded the graph
    assert restarted.search_kind == "hnsw" and restarted.replayed == 0 and len(restarted) == 11


def test_the_journal_is_folded_after_n_adds(shipped_model: Siamese, index_dir: Path) -> None:
    settings = ServiceSettings(fold_every_adds=3, fold_every_seconds=3600)
    app = create_app(shipped_model, DuplicateIndex.load(index_dir, shipped_model), TOKEN, settings)
    new = {
        "tea": "How do I make green tea?",
        "bread": "How do I bake bread at home?",
        "bike": "How do I fix a flat bike tyre?",
    }
    questions = [
        "What is the best way to make green tea?",
        "How can I bake my own bread?",
        "Why can't I sleep?",
    ]
    with TestClient(app) as client:
        add(client, {"tea": new["tea"]})
        add(client, {k: new[k] for k in ("bread", "bike")})
        assert app.state.store.wait_for_folds(1, PATIENCE)
        assert _changes(index_dir) == 0
        manifest = json.loads((index_dir / "manifest.json").read_text())
        assert manifest["questions"] == len(FORUM_QUESTIONS) + 3
        served = [
            client.post("/duplicates", json={"question": q, "k": 4}).json()["matches"] for q in questions
        ]
        assert client.get("/health").json()["index"]["journalled"] == 0
    reloaded = DuplicateIndex.load(index_dir, shipped_model)
    assert reloaded.replayed == 0 and len(reloaded) == len(FORUM_QUESTIONS) + 3
    again = [[m.__dict__ for m in reloaded.query(q, k=4)] for q in questions]
    assert [[m["id"] for m in ms] for ms in again] == [[m["id"] for m in ms] for ms in served]
    assert served[0][0]["id"] == "tea" and served[1][0]["id"] == "bread"


def test_shutdown_folds_what_is_left(shipped_model: Siamese, index_dir: Path) -> None:
    app = create_app(shipped_model, DuplicateIndex.load(index_dir, shipped_model), TOKEN)
    with TestClient(app) as client:
        add(client, {"tea": "How do I make green tea?"})
        assert _changes(index_dir) == 1  # journalled before the answer
    assert _changes(index_dir) == 0
    reloaded = DuplicateIndex.load(index_dir, shipped_model)
    assert "tea" in reloaded and reloaded.replayed == 0


def _changes(index_dir: Path) -> int:
    """Changes in the index's journal (its first line names the save it follows)."""
    lines = (index_dir / "journal.jsonl").read_text().splitlines()
    return sum(json.loads(line)["op"] != "base" for line in lines)


def test_queries_do_not_wait_while_the_build_copies_the_stored_vectors(
    shipped_model: Siamese, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duplicate_index, "EXACT_MAX", len(FORUM_QUESTIONS) - 1)
    index = DuplicateIndex.load(index_dir, shipped_model)
    copying, release = threading.Event(), threading.Event()
    real_row_vectors = index.row_vectors

    def held_row_vectors(start: int, stop: int):
        if threading.current_thread().name == "siamdup-hnsw-switch" and not release.is_set():
            copying.set()
            assert release.wait(PATIENCE)
        return real_row_vectors(start, stop)

    monkeypatch.setattr(index, "row_vectors", held_row_vectors)
    store = ServedIndex(index, ServiceSettings())
    try:
        assert store.switch.start() and copying.wait(PATIENCE)
        # the build holds the writers' lock while it copies: a search must still be answered
        (matches,) = store.search(shipped_model.encode(["How do I cook rice?"]), 2)
        assert matches[0].id == "rice" and store.switch.running
    finally:
        release.set()
        assert store.switch.wait(PATIENCE)
    assert index.search_kind == "hnsw"


def test_queries_do_not_wait_while_an_add_is_journalled(
    shipped_model: Siamese, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = DuplicateIndex.load(index_dir, shipped_model)
    writing, release = threading.Event(), threading.Event()
    real_journal = index._journal

    def slow_journal(records: list[dict]) -> None:
        writing.set()  # the append and its fsync are under way
        assert release.wait(PATIENCE)
        real_journal(records)

    monkeypatch.setattr(index, "_journal", slow_journal)
    store = ServedIndex(index, ServiceSettings())
    question = "How long should I boil an egg?"
    adding = threading.Thread(target=store.add, args=(["egg"], [question], shipped_model.encode([question])))
    adding.start()
    try:
        assert writing.wait(PATIENCE)
        (matches,) = store.search(shipped_model.encode(["How do I cook rice?"]), 2)
        assert matches[0].id == "rice" and "egg" not in {m.id for m in matches}
    finally:
        release.set()
        adding.join(PATIENCE)
    (matches,) = store.search(shipped_model.encode([question]), 1)
    assert matches[0].id == "egg"
    reloaded = DuplicateIndex.load(index_dir, shipped_model)
    assert "egg" in {m.id for m in reloaded.query(question, k=1)}
