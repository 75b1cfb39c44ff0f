"""Queries answered together on the query thread: the same answers as one by one, the thread counts set,
and the HNSW build on its own thread count at a lower priority."""

import os
import sys
import threading

import faiss
import pytest
import torch
from fastapi.testclient import TestClient
from helpers import FORUM_QUESTIONS

from siamdup import Siamese
from siamdup.index import DuplicateIndex, duplicate_index
from siamdup.index.background import HNSWSwitch
from siamdup.serve import ServiceSettings, create_app
from siamdup.serve.batching import QueryBatcher
from siamdup.serve.store import ServedIndex

PATIENCE = 120  # seconds; only reached when the code under test is broken
TOPICS = ["cook pasta", "learn French", "fix a laptop", "train a dog", "save money", "write a novel"]
WAYS = [(w, t) for w in ("best", "fastest", "cheapest", "easiest") for t in TOPICS]
STORED = {**FORUM_QUESTIONS, **{f"q{i}": f"What is the {w} way to {t}?" for i, (w, t) in enumerate(WAYS)}}
QUERIES = [
    "Python?",
    "How do I learn to cook pasta at home without any special tools or a recipe book?",
    "cheap flights",
    "What's the quickest way to save money every month?",
    "How can I sleep better?",
    "France capital",
    "How do I prepare for an interview for a software engineering job at a large company?",
    "guitar",
    "How do I teach my dog to sit?",
    "How can I write a good book?",
    "laptop broken",
    "Learning French fast",
]


@pytest.fixture
def index(shipped_model: Siamese) -> DuplicateIndex:
    built = DuplicateIndex(shipped_model)
    built.add(list(STORED), list(STORED.values()))
    return built


def test_queries_waiting_together_get_the_answers_they_get_alone(
    shipped_model: Siamese, index: DuplicateIndex
) -> None:
    store = ServedIndex(index, ServiceSettings())
    batcher = QueryBatcher(shipped_model, store, batch=64, threads=1)
    ks = [1 + i % 10 for i in range(len(QUERIES))]
    try:
        with store.state_lock:  # the worker is held at its first search: the rest queue up together
            answers = [batcher.submit(q, k) for q, k in zip(QUERIES, ks, strict=True)]
        got = [a.result(PATIENCE) for a in answers]
    finally:
        batcher.close()
    assert batcher.answered == len(QUERIES) and batcher.batches <= 2
    for question, k, matches in zip(QUERIES, ks, got, strict=True):
        alone = index.query(question, k)
        assert [m.id for m in matches] == [m.id for m in alone]
        assert [m.similarity for m in matches] == pytest.approx([m.similarity for m in alone], abs=1e-5)


def test_a_batch_holds_at_most_the_batch_size(shipped_model: Siamese, index: DuplicateIndex) -> None:
    store = ServedIndex(index, ServiceSettings())
    batcher = QueryBatcher(shipped_model, store, batch=3, threads=1)
    try:
        with store.state_lock:
            answers = [batcher.submit(q, 5) for q in QUERIES]
        assert all(len(a.result(PATIENCE)) == 5 for a in answers)
    finally:
        batcher.close()
    assert batcher.answered == len(QUERIES) and batcher.batches >= len(QUERIES) // 3


def test_a_failed_batch_fails_its_queries_and_the_next_one_is_answered(
    shipped_model: Siamese, index: DuplicateIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ServedIndex(index, ServiceSettings())
    batcher = QueryBatcher(shipped_model, store, batch=8, threads=1)
    real_search = store.search
    monkeypatch.setattr(store, "search", lambda vectors, k: real_search(vectors, 0))  # k < 1 is refused
    try:
        with pytest.raises(ValueError, match="k must be at least 1"):
            batcher.submit("How do I cook rice?", 3).result(PATIENCE)
        monkeypatch.setattr(store, "search", real_search)
        assert batcher.submit("How do I cook rice?", 3).result(PATIENCE)[0].id == "rice"
    finally:
        batcher.close()


def test_the_query_thread_uses_the_configured_thread_count(
    shipped_model: Siamese, index: DuplicateIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    wanted = torch.get_num_threads() + 1  # differs from what this thread has
    seen: list[tuple[int, int]] = []
    real_encode = shipped_model.encode

    def watched_encode(texts: list[str]):
        seen.append((torch.get_num_threads(), faiss.omp_get_max_threads()))
        return real_encode(texts)

    monkeypatch.setattr(shipped_model, "encode", watched_encode)
    settings = ServiceSettings(query_threads=wanted)
    app = create_app(shipped_model, index, settings=settings)
    with TestClient(app) as client:
        response = client.post("/duplicates", json={"question": "How do I cook rice?", "k": 2})
        assert response.status_code == 200 and response.json()["matches"][0]["id"] == "rice"
        queries = client.get("/health").json()["queries"]
        assert (queries["answered"], queries["batches"]) == (1, 1) and queries["longest_pass_ms"] > 0
    assert seen == [(wanted, wanted)] * 2  # the warm-up pass, then the query


def test_the_query_path_is_warmed_up_before_the_service_answers(
    shipped_model: Siamese, index: DuplicateIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoded: list[list[str]] = []
    real_encode = shipped_model.encode
    monkeypatch.setattr(shipped_model, "encode", lambda texts: encoded.append(texts) or real_encode(texts))
    app = create_app(shipped_model, index)
    with TestClient(app) as client:
        assert len(encoded) == 1 and app.state.batcher._worker.is_alive()  # before any request
        assert client.get("/health").json()["queries"] == {
            "answered": 0,
            "batches": 0,
            "longest_pass_ms": 0.0,
        }


def test_a_failed_warm_up_does_not_stop_the_service(
    shipped_model: Siamese, index: DuplicateIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_encode = shipped_model.encode
    calls: list[int] = []

    def failing_first(texts: list[str]):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("cold start failed")
        return real_encode(texts)

    monkeypatch.setattr(shipped_model, "encode", failing_first)
    with TestClient(create_app(shipped_model, index)) as client:
        response = client.post("/duplicates", json={"question": "How do I cook rice?", "k": 1})
    assert response.status_code == 200 and response.json()["matches"][0]["id"] == "rice"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread priorities are Linux's")
def test_the_hnsw_build_runs_on_its_own_thread_count_at_a_lower_priority(
    shipped_model: Siamese, index: DuplicateIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(duplicate_index, "EXACT_MAX", len(STORED) - 1)
    wanted = faiss.omp_get_max_threads() + 2
    seen: list[tuple[int, int]] = []

    def record() -> None:  # called on the build thread when it ends
        native = threading.get_native_id()
        seen.append((faiss.omp_get_max_threads(), os.getpriority(os.PRIO_PROCESS, native)))

    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    index.switch_in_background = True
    switch = HNSWSwitch(index, threading.Lock(), threading.Lock(), on_done=record, threads=wanted)
    assert switch.start() and switch.wait(PATIENCE)
    assert index.search_kind == "hnsw" and switch.error is None
    assert seen == [(wanted, mine)]  # the thread that shares the GIL with queries keeps their priority
    assert switch.worker == {"niceness": min(19, mine + 10), "threads": wanted}  # the build process
    assert faiss.omp_get_max_threads() == wanted - 2  # this thread's count is untouched
