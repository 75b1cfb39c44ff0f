"""Request bodies are capped before they are read, and no error reply grows with the input."""

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers import FORUM_QUESTIONS

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.serve import ServiceSettings, create_app
from siamdup.serve.schemas import MAX_TEXT_CHARS

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
FIFTY_MB = 50 * 2**20
PIECE = b"[" * 65536


@pytest.fixture
def app(shipped_model: Siamese, tmp_path: Path):
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    return create_app(shipped_model, DuplicateIndex.load(index.save(tmp_path / "ix"), shipped_model), TOKEN)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def post_streamed(app, path: str, total: int, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes, int]:
    """POST `total` bytes to the ASGI app in 64 KiB pieces; (status, reply body, bytes the app took)."""
    taken = 0
    replies: list[dict] = []

    async def receive() -> dict:
        nonlocal taken
        if taken >= total:
            return {"type": "http.disconnect"}
        taken += len(PIECE)
        return {"type": "http.request", "body": PIECE, "more_body": taken < total}

    async def send(message: dict) -> None:
        replies.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in replies if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in replies if m["type"] == "http.response.body")
    return status, body, taken


@pytest.mark.parametrize("path", ["/similarity", "/duplicates", "/index"])
def test_a_50_mb_body_is_refused_unread_with_a_small_reply(app, path: str) -> None:
    length = [(b"content-length", str(FIFTY_MB).encode())]
    status, body, taken = post_streamed(app, path, FIFTY_MB, length)
    assert status == 413 and len(body) < 1024, (status, len(body))
    assert "limit" in json.loads(body)["detail"]
    assert taken == 0  # refused from its Content-Length: not one byte read


def test_a_chunked_body_past_the_cap_is_refused_as_soon_as_it_passes(app) -> None:
    cap = ServiceSettings().max_body_bytes
    status, body, taken = post_streamed(app, "/similarity", FIFTY_MB, [(b"transfer-encoding", b"chunked")])
    assert status == 413 and len(body) < 1024
    assert cap < taken <= cap + len(PIECE)


def test_the_cap_is_configurable(shipped_model: Siamese) -> None:
    client = TestClient(create_app(shipped_model, settings=ServiceSettings(max_body_bytes=2048)))
    pair = {"question1": "How old are you?", "question2": "What is your age?"}
    assert client.post("/similarity", json={"pairs": [pair]}).status_code == 200
    assert client.post("/similarity", json={"pairs": [pair] * 40}).status_code == 413
    assert client.get("/health").json()["max_body_bytes"] == 2048


MALFORMED = {
    "invalid UTF-8": b'{"question": "caf\xe9?"}',
    "invalid JSON": b'{"question": ',
    "1000-deep nesting": b"[" * 1000 + b"]" * 1000,
    "deep nesting in a field": b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}",
    "a number too long to convert": b'{"question": "x?", "k": ' + b"9" * 5000 + b"}",
    "a UTF-16 body": '{"question": "x?"}'.encode("utf-16"),
    "wrong type": b'{"question": 5}',
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_every_malformed_body_gets_a_422_with_a_reason(client: TestClient, raw: bytes) -> None:
    for path in ("/similarity", "/duplicates", "/index"):
        response = client.post(path, content=raw, headers={"Content-Type": "application/json", **AUTH})
        assert response.status_code == 422, (path, response.status_code, response.text[:200])
        assert response.json()["detail"][0]["msg"] and len(response.content) < 1024


def test_a_large_invalid_body_gets_a_small_422(client: TestClient) -> None:
    long_text = "a" * 200_000  # under the body cap, far over the text limit
    too_long = "a" * (MAX_TEXT_CHARS + 1)
    bodies = [
        {"question": long_text},
        {"question": "ok?", long_text: 1},
        {"pairs": [{"question1": too_long, "question2": too_long, "x" * 50: 1}] * 100},
    ]
    for path, body in zip(("/duplicates", "/duplicates", "/similarity"), bodies, strict=True):
        response = client.post(path, json=body)
        assert response.status_code == 422 and len(response.content) < 1024, len(response.content)
        assert "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" not in response.text
    many = client.post("/similarity", json={"pairs": [{"question1": 1, "question2": 2}] * 250})
    detail = many.json()["detail"]
    assert len(many.content) < 1024 and detail[-1]["type"] == "more_errors"
    assert int(detail[-1]["msg"].split()[0]) + len(detail) - 1 == 500


def test_a_long_conflict_message_is_cut(client: TestClient) -> None:
    ids = [f"{n}-" + "i" * 190 for n in range(5)]
    questions = [{"id": i, "text": "How do I brew tea?"} for i in ids]
    assert client.post("/index", headers=AUTH, json={"questions": questions}).status_code == 201
    again = client.post("/index", headers=AUTH, json={"questions": questions})
    assert again.status_code == 409 and len(again.content) < 1024


def test_whitespace_only_text_is_refused_as_the_schema_says(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()["components"]["schemas"]
    question = schema["DuplicatesRequest"]["properties"]["question"]
    assert question["pattern"] == r"\S" and question["minLength"] == 1
    assert question["maxLength"] == MAX_TEXT_CHARS
    for text in (" ", "\t\n", "\u3000"):
        assert client.post("/duplicates", json={"question": text}).status_code == 422
    # length is counted as sent, as the schema states it, and the text is used stripped
    padded = client.post("/duplicates", json={"question": "  How do I learn Python? "})
    assert padded.status_code == 200 and padded.json()["question"] == "How do I learn Python?"
    too_long = " " + "a" * MAX_TEXT_CHARS
    assert client.post("/duplicates", json={"question": too_long}).status_code == 422


def test_the_schema_lists_every_status_each_route_returns(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    statuses = {
        path: set(paths[path]["post"]["responses"]) for path in ("/similarity", "/duplicates", "/index")
    }
    assert statuses == {
        "/similarity": {"200", "400", "413", "422"},
        "/duplicates": {"200", "400", "413", "422", "503"},
        "/index": {"201", "401", "409", "413", "422", "503"},
    }
