import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers import FORUM_QUESTIONS

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.serve import create_app
from siamdup.serve.schemas import MAX_K, MAX_PAIRS, MAX_TEXT_CHARS

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def index_dir(shipped_model: Siamese, tmp_path: Path) -> Path:
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    return index.save(tmp_path / "ix")


@pytest.fixture
def client(shipped_model: Siamese, index_dir: Path) -> TestClient:
    app = create_app(shipped_model, DuplicateIndex.load(index_dir, shipped_model), token=TOKEN)
    return TestClient(app, raise_server_exceptions=False)


def test_health(client: TestClient, shipped_model: Siamese) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["threshold"] == shipped_model.threshold
    assert body["index"] == {
        "questions": len(FORUM_QUESTIONS),
        "search": "exact",
        "switching_to_hnsw": False,
        "journalled": 0,
    }
    assert body["adding_enabled"] is True and body["model"] == shipped_model.fingerprint()


def test_similarity_matches_the_model(client: TestClient, shipped_model: Siamese) -> None:
    a = ["How do I learn Python?", "Where are you from?"]
    b = ["What is the best way to learn Python?", "How do I cook rice?"]
    response = client.post(
        "/similarity", json={"pairs": [{"question1": x, "question2": y} for x, y in zip(a, b, strict=True)]}
    )
    assert response.status_code == 200
    body = response.json()
    scores, decisions = shipped_model.predict(a, b)
    np.testing.assert_allclose([r["similarity"] for r in body["results"]], scores, atol=1e-6)
    assert [r["duplicate"] for r in body["results"]] == decisions.tolist() == [True, False]


def test_duplicates_lists_the_known_duplicate_first(client: TestClient) -> None:
    body = client.post("/duplicates", json={"question": "  How do I learn Python?  ", "k": 3}).json()
    assert body["question"] == "How do I learn Python?"
    assert body["matches"][0]["id"] == "py" and len(body["matches"]) == 3
    assert body["matches"][0]["duplicate"] is True and body["matches"][1]["duplicate"] is False
    similarities = [m["similarity"] for m in body["matches"]]
    assert similarities == sorted(similarities, reverse=True)


def test_adding_needs_the_token(client: TestClient) -> None:
    new = {"questions": [{"id": "tea", "text": "How do I make green tea?"}]}
    missing = client.post("/index", json=new)
    assert missing.status_code == 401 and "missing bearer token" in missing.json()["detail"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.post("/index", json=new, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong bearer token"
    assert (
        client.post("/duplicates", json={"question": "green tea", "k": 100}).json()["matches"][0]["id"]
        != "tea"
    )


def test_added_questions_are_found_and_survive_a_restart(
    client: TestClient, shipped_model: Siamese, index_dir: Path
) -> None:
    response = client.post(
        "/index",
        headers=AUTH,
        json={
            "questions": [
                {"id": "tea", "text": "How do I make green tea?"},
                {"text": "Is coffee bad for you?"},
            ]
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["added"] == 2 and body["ids"][0] == "tea" and len(body["ids"][1]) == 32
    assert body["questions"] == len(FORUM_QUESTIONS) + 2
    top = client.post("/duplicates", json={"question": "What is the best way to make green tea?"}).json()
    assert top["matches"][0]["id"] == "tea"
    restarted = DuplicateIndex.load(index_dir, shipped_model)  # the journal has them
    assert "tea" in restarted and body["ids"][1] in restarted
    conflict = client.post("/index", headers=AUTH, json={"questions": [{"id": "tea", "text": "again?"}]})
    assert conflict.status_code == 409 and "already stored" in conflict.json()["detail"]


def test_adding_is_off_without_a_token(shipped_model: Siamese, index_dir: Path) -> None:
    app = create_app(shipped_model, DuplicateIndex.load(index_dir, shipped_model), token=None)
    client = TestClient(app)
    response = client.post("/index", json={"questions": [{"text": "x?"}]}, headers=AUTH)
    assert response.status_code == 401 and "disabled" in response.json()["detail"]
    assert client.get("/health").json()["adding_enabled"] is False


def test_without_an_index_duplicates_is_unavailable(shipped_model: Siamese) -> None:
    client = TestClient(create_app(shipped_model, None))
    response = client.post("/duplicates", json={"question": "hello?"})
    assert response.status_code == 503 and "--index" in response.json()["detail"]
    assert (
        client.post("/similarity", json={"pairs": [{"question1": "a?", "question2": "b?"}]}).status_code
        == 200
    )


BAD_REQUESTS = [
    ("/similarity", {"pairs": []}),
    ("/similarity", {"pairs": [{"question1": "a?", "question2": "b?"}] * (MAX_PAIRS + 1)}),
    ("/similarity", {"pairs": [{"question1": "   ", "question2": "b?"}]}),
    ("/similarity", {"pairs": [{"question1": "a" * (MAX_TEXT_CHARS + 1), "question2": "b?"}]}),
    ("/similarity", {"pairs": [{"question1": 5, "question2": "b?"}]}),
    ("/similarity", {"pairs": [{"question1": None, "question2": "b?"}]}),
    ("/similarity", {"pairs": [{"question1": "a?"}]}),
    ("/similarity", {"pairs": [{"question1": "a?", "question2": "b?", "extra": 1}]}),
    ("/similarity", {"pairs": "not a list"}),
    ("/similarity", ["a", "b"]),
    ("/duplicates", {"question": "ok?", "k": 0}),
    ("/duplicates", {"question": "ok?", "k": MAX_K + 1}),
    ("/duplicates", {"question": "ok?", "k": "5"}),
    ("/duplicates", {"question": "ok?", "k": 2.5}),
    ("/duplicates", {"question": ""}),
    ("/duplicates", {"question": "\ud800 lone surrogate"}),
    ("/duplicates", {}),
    ("/index", {"questions": []}),
    ("/index", {"questions": [{"id": "", "text": "x?"}]}),
    ("/index", {"questions": [{"id": "x", "text": "\udcff"}]}),
    ("/index", {"questions": [{"text": "x?"}] * 1001}),
]


@pytest.mark.parametrize(("path", "body"), BAD_REQUESTS)
def test_bad_input_gets_a_clear_422(client: TestClient, path: str, body: object) -> None:
    # json.dumps escapes lone surrogates as \\udXXX, as a client in another language might send them
    headers = {"Content-Type": "application/json", **AUTH}
    response = client.post(path, content=json.dumps(body).encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["msg"]


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b"[]", b"null", b'"text"'])
def test_malformed_bodies_are_4xx_never_500(client: TestClient, raw: bytes) -> None:
    for path in ("/similarity", "/duplicates", "/index"):
        response = client.post(path, content=raw, headers={"Content-Type": "application/json", **AUTH})
        assert 400 <= response.status_code < 500, (path, raw, response.status_code)


def test_page_and_docs_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        'id="question"' in page.text
        and 'id="q1"' in page.text
        and "http" not in page.text.split("<script>")[0]
    )
    docs = client.get("/docs")
    assert docs.status_code == 200 and "cdn" not in docs.text
    assert (
        client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    )  # served locally: works offline
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/similarity", "/duplicates", "/index", "/health"} <= set(paths)
