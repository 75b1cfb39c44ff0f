""" "verify": true on /similarity and /duplicates, with the untrained tiny verifier: the service must answer
exactly what the verifier says, refuse clearly without one or over the cap, and verify outside the lock that
the index's writers and the other queries need."""

import threading
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from helpers import FORUM_QUESTIONS
from verifier_samples import one_thread

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.serve import ServiceSettings, create_app
from siamdup.verify import Verifier

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CAP = 4
ASKED = "How do I learn Python?"
PAIRS = [
    ("How do I learn Python?", "What is the best way to learn Python?"),
    ("How old are you?", "What is your age?"),
    ("Where are you from?", "Where are you going?"),
]


@pytest.fixture
def verifier(random_verifier_dir: Path) -> Verifier:
    return Verifier.load(random_verifier_dir)


@pytest.fixture
def index(shipped_model: Siamese, tmp_path: Path) -> DuplicateIndex:
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    return DuplicateIndex.load(index.save(tmp_path / "ix"), shipped_model)


@pytest.fixture
def client(shipped_model: Siamese, index: DuplicateIndex, verifier: Verifier) -> TestClient:
    settings = ServiceSettings(max_verified_pairs=CAP)
    app = create_app(shipped_model, index, token=TOKEN, settings=settings, verifier=verifier)
    return TestClient(app, raise_server_exceptions=False)


def pairs_body(pairs, verify: bool = True) -> dict:
    return {"pairs": [{"question1": a, "question2": b} for a, b in pairs], "verify": verify}


def test_similarity_gives_both_scores_and_both_decisions(
    client: TestClient, shipped_model: Siamese, verifier: Verifier
) -> None:
    with one_thread():
        body = client.post("/similarity", json=pairs_body(PAIRS)).json()
    q1s, q2s = [a for a, _ in PAIRS], [b for _, b in PAIRS]
    expected = verifier.score(q1s, q2s)
    similarities, cosine_decisions = shipped_model.predict(q1s, q2s)
    results = body["results"]
    np.testing.assert_allclose([r["verification"] for r in results], expected, atol=1e-5)
    assert [r["duplicate"] for r in results] == (expected > verifier.threshold).tolist()
    np.testing.assert_allclose([r["similarity"] for r in results], similarities, atol=1e-6)
    assert [r["cosine_duplicate"] for r in results] == cosine_decisions.tolist()
    assert body["threshold"] == shipped_model.threshold and body["verifier_threshold"] == 0.45


def test_duplicates_rescores_the_candidates_as_the_verifier_does(
    client: TestClient, verifier: Verifier
) -> None:
    plain = client.post("/duplicates", json={"question": ASKED, "k": 3}).json()
    with one_thread():
        body = client.post("/duplicates", json={"question": ASKED, "k": 3, "verify": True}).json()
    matches = body["matches"]
    assert {m["id"] for m in matches} == {m["id"] for m in plain["matches"]} and len(matches) == 3
    expected = verifier.score([ASKED] * 3, [m["text"] for m in matches])
    np.testing.assert_allclose([m["verification"] for m in matches], expected, atol=1e-5)
    assert [m["duplicate"] for m in matches] == (expected > verifier.threshold).tolist()
    verifications = [m["verification"] for m in matches]
    assert verifications == sorted(verifications, reverse=True)
    cosine = {m["id"]: (m["similarity"], m["duplicate"]) for m in plain["matches"]}
    assert {m["id"]: (m["similarity"], m["cosine_duplicate"]) for m in matches} == cosine
    assert body["verifier_threshold"] == 0.45


def test_without_verify_the_answers_are_unchanged(client: TestClient) -> None:
    body = client.post("/similarity", json=pairs_body(PAIRS * 2, verify=False)).json()  # over the cap: fine
    assert set(body) == {"threshold", "results"} and set(body["results"][0]) == {"similarity", "duplicate"}
    body = client.post("/duplicates", json={"question": ASKED, "k": CAP + 1}).json()
    assert set(body) == {"question", "threshold", "matches"} and len(body["matches"]) == CAP + 1
    assert set(body["matches"][0]) == {"id", "text", "similarity", "duplicate"}
    assert client.get("/health").json()["verifier"] == {
        "threshold": 0.45,
        "runtime": "torch",
        "max_pairs": CAP,
    }


def test_more_pairs_than_the_cap_are_refused_before_any_work(client: TestClient) -> None:
    over = client.post("/similarity", json=pairs_body(PAIRS * 2))
    assert over.status_code == 422
    (error,) = over.json()["detail"]
    assert (
        error["loc"] == ["body", "pairs"]
        and f"at most {CAP} pairs" in error["msg"]
        and "asks 6" in error["msg"]
    )
    over = client.post("/duplicates", json={"question": ASKED, "k": CAP + 1, "verify": True})
    assert over.status_code == 422 and over.json()["detail"][0]["loc"] == ["body", "k"]
    assert client.post("/duplicates", json={"question": ASKED, "k": CAP, "verify": True}).status_code == 200


def test_verify_without_a_verifier_is_a_clear_400(shipped_model: Siamese, index: DuplicateIndex) -> None:
    client = TestClient(create_app(shipped_model, index), raise_server_exceptions=False)
    for path, body in [
        ("/similarity", pairs_body(PAIRS)),
        ("/duplicates", {"question": ASKED, "verify": True}),
    ]:
        response = client.post(path, json=body)
        assert response.status_code == 400 and "--verifier DIR" in response.json()["detail"], path
    assert client.get("/health").json()["verifier"] is None
    assert client.post("/similarity", json=pairs_body(PAIRS, verify=False)).status_code == 200


@pytest.mark.parametrize("flag", ["true", 1, None])
def test_verify_must_be_a_boolean(client: TestClient, flag: object) -> None:
    response = client.post("/duplicates", json={"question": ASKED, "verify": flag})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "verify"]


def test_the_schema_documents_verify_and_its_answers(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/similarity", "/duplicates"):
        responses = schema["paths"][path]["post"]["responses"]
        assert "--verifier DIR" in responses["400"]["description"]
        assert {"200", "400", "413", "422"} <= set(responses)
    components = schema["components"]["schemas"]
    for request in ("SimilarityRequest", "DuplicatesRequest"):
        assert components[request]["properties"]["verify"]["type"] == "boolean"
    for reply in ("PairScore", "MatchOut"):
        assert {"verification", "cosine_duplicate"} <= set(components[reply]["properties"])


class BlockingVerifier:
    """The verifier, held inside `score` until released: what else the service answers meanwhile."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.threshold = verifier.threshold
        self.entered = threading.Event()
        self.release = threading.Event()

    def predict(self, q1s, q2s):
        self.entered.set()
        assert self.release.wait(timeout=60)
        return self.verifier.predict(q1s, q2s)


def test_verifying_holds_up_neither_queries_nor_adds(
    shipped_model: Siamese, index: DuplicateIndex, verifier: Verifier
) -> None:
    blocking = BlockingVerifier(verifier)
    app = create_app(shipped_model, index, token=TOKEN, verifier=blocking)  # type: ignore[arg-type]
    client = TestClient(app, raise_server_exceptions=False)
    answers: list = []
    verifying = threading.Thread(
        target=lambda: answers.append(client.post("/duplicates", json={"question": ASKED, "verify": True}))
    )
    verifying.start()
    try:
        assert blocking.entered.wait(timeout=60)
        added = client.post(
            "/index", json={"questions": [{"id": "tea", "text": "How do I make tea?"}]}, headers=AUTH
        )
        assert added.status_code == 201
        found = client.post("/duplicates", json={"question": "How can I make tea?", "k": 1})
        assert found.status_code == 200 and found.json()["matches"][0]["id"] == "tea"
        assert not answers  # the verification is still held
    finally:
        blocking.release.set()
        verifying.join(timeout=60)
    assert answers[0].status_code == 200 and len(answers[0].json()["matches"]) == 5


def test_verify_on_an_empty_index_answers_no_matches(shipped_model: Siamese, verifier: Verifier) -> None:
    client = TestClient(create_app(shipped_model, DuplicateIndex(shipped_model), verifier=verifier))
    body = client.post("/duplicates", json={"question": ASKED, "verify": True}).json()
    assert body["matches"] == [] and body["verifier_threshold"] == 0.45
