"""The signature endpoints: enrol (token-protected) and verify, their limits and their errors."""

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from signature_samples import signature

from siamdup import Siamese
from siamdup.serve import create_app
from siamdup.serve.signature_schemas import MAX_POINTS, MAX_SIGNATURES, SignatureIn
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.references import MAX_REFERENCES
from siamdup.signatures.verifier import SignatureVerifier

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def signature_model() -> SignatureModel:
    return SignatureModel.untrained(seed=0, d_model=16, length=32)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "signatures"


def client_for(shipped_model: Siamese, verifier: SignatureVerifier, token: str | None = TOKEN) -> TestClient:
    return TestClient(
        create_app(shipped_model, token=token, signatures=verifier), raise_server_exceptions=False
    )


@pytest.fixture
def client(shipped_model: Siamese, signature_model: SignatureModel, store_dir: Path) -> TestClient:
    return client_for(shipped_model, SignatureVerifier.open(store_dir, signature_model))


def as_json(writer: int, sample: int) -> dict:
    return SignatureIn.of(signature(writer, sample)).model_dump()


def enrol(client: TestClient, writer: str, samples: list[dict], headers: dict = AUTH):
    return client.post("/signatures/enrol", json={"writer": writer, "signatures": samples}, headers=headers)


def test_enrol_then_verify_matches_the_python_api(
    client: TestClient, signature_model: SignatureModel, store_dir: Path
) -> None:
    first = enrol(client, "alice", [as_json(1, i) for i in range(3)])
    assert first.status_code == 201 and first.json() == {"writer": "alice", "added": 3, "references": 3}
    assert enrol(client, "alice", [as_json(1, 3)]).json()["references"] == 4

    body = client.post("/signatures/verify", json={"writer": "alice", "signature": as_json(1, 9)}).json()
    expected = SignatureVerifier.open(store_dir, signature_model).verify(
        "alice", signature(1, 9)
    )  # from disk
    assert body["writer"] == "alice" and body["genuine"] == expected.genuine
    assert body["score"] == pytest.approx(expected.score, abs=1e-6)
    np.testing.assert_allclose(body["references"], expected.reference_scores, atol=1e-6)
    assert body["threshold"] == signature_model.threshold

    info = client.get("/signatures/info").json()
    assert info["writers"] == 1 and info["references"] == 4 and info["enrolling_enabled"] is True
    shown = client.get("/signatures/writers/alice").json()
    assert [r["source"] for r in shown["references"]] == [
        "signature 0",
        "signature 1",
        "signature 2",
        "signature 0",
    ]
    first_points = signature(1, 0).points
    assert shown["references"][0]["points"][:2] == [[p[0], p[1], int(p[3])] for p in first_points[:2]]


def test_enrolling_needs_the_token(
    client: TestClient, shipped_model: Siamese, store_dir: Path, signature_model
) -> None:
    missing = enrol(client, "alice", [as_json(1, 0)], headers={})
    assert missing.status_code == 401 and "missing bearer token" in missing.json()["detail"]
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = enrol(client, "alice", [as_json(1, 0)], headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "wrong bearer token"
    off = client_for(shipped_model, SignatureVerifier.open(store_dir, signature_model), token=None)
    refused = enrol(off, "alice", [as_json(1, 0)])
    assert refused.status_code == 401 and "enrolling is disabled" in refused.json()["detail"]
    assert off.get("/signatures/info").json()["enrolling_enabled"] is False
    assert client.get("/signatures/writers/alice").status_code == 404  # nothing was stored


def test_unknown_writer_is_a_404(client: TestClient) -> None:
    reply = client.post("/signatures/verify", json={"writer": "carol", "signature": as_json(1, 0)})
    assert reply.status_code == 404
    assert reply.json()["detail"] == "no signatures are enrolled for writer 'carol'; enrol some first"


def reason(reply) -> str:
    assert reply.status_code == 422, reply.text
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in reply.json()["detail"])


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"writer": "../etc"}, "body.writer: String should match pattern"),
        ({"writer": ""}, "body.writer: String should have at least 1 character"),
        ({"signatures": []}, "body.signatures: List should have at least 1 item"),
        (
            {"signatures": [{"points": [[1, 2, 3, 1]] * 2, "columns": ["y", "x", "t", "pen_down"]}]},
            "columns must start",
        ),
        (
            {"signatures": [{"points": [[1, 2, 3, 1], [1, 2, 3, 1, 5]]}]},
            "point 1 has 5 numbers for 4 columns",
        ),
        ({"signatures": [{"points": [[1, 2, 3, 1]]}]}, "List should have at least 2 items"),
        ({"signatures": [{"points": [[1, 2, 3, 1]] * (MAX_POINTS + 1)}]}, f"at most {MAX_POINTS} items"),
        (
            {"signatures": [{"points": [[1, 2, 3, 1]] * 2}] * (MAX_SIGNATURES + 1)},
            f"at most {MAX_SIGNATURES} items",
        ),
        ({"signatures": [{"points": [[1, 2, "3", 1]] * 2}]}, "Input should be a valid number"),
        (
            {"signatures": [{"points": [[1, 2, 3, 1]] * 2, "colour": "blue"}]},
            "Extra inputs are not permitted",
        ),
    ],
)
def test_bad_enrolments_are_refused_with_the_reason(client: TestClient, change: dict, expected: str) -> None:
    request = {"writer": "alice", "signatures": [as_json(1, 0)], **change}
    assert expected in reason(client.post("/signatures/enrol", json=request, headers=AUTH))
    assert client.get("/signatures/info").json()["references"] == 0


def test_non_finite_numbers_and_a_bad_writer_path_are_refused(client: TestClient) -> None:
    body = b'{"writer": "alice", "signature": {"points": [[1, 2, NaN, 1], [1, 2, 3, 1]]}}'
    reply = client.post("/signatures/verify", content=body, headers={"Content-Type": "application/json"})
    assert "Input should be a finite number" in reason(reply)
    assert "String should match pattern" in reason(client.get("/signatures/writers/.hidden"))


def test_the_per_writer_limit_is_a_409(client: TestClient) -> None:
    tiny = {"points": [[1, 2, 3, 1], [2, 3, 13, 1]]}
    for _ in range(MAX_REFERENCES // MAX_SIGNATURES):
        assert enrol(client, "alice", [tiny] * MAX_SIGNATURES).status_code == 201
    over = enrol(client, "alice", [tiny])
    assert over.status_code == 409 and f"would pass the limit of {MAX_REFERENCES}" in over.json()["detail"]
    assert "nothing was enrolled" in over.json()["detail"]


def test_enrolments_survive_a_restart(
    client: TestClient, shipped_model: Siamese, signature_model: SignatureModel, store_dir: Path
) -> None:
    enrol(client, "bob", [as_json(2, i) for i in range(2)])
    restarted = client_for(shipped_model, SignatureVerifier.open(store_dir, signature_model))
    reply = restarted.post("/signatures/verify", json={"writer": "bob", "signature": as_json(2, 5)})
    assert reply.status_code == 200 and len(reply.json()["references"]) == 2


def test_openapi_lists_the_errors(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert set(paths["/signatures/enrol"]["post"]["responses"]) == {"201", "401", "409", "413", "422", "503"}
    assert set(paths["/signatures/verify"]["post"]["responses"]) == {"200", "404", "413", "422"}
    assert paths["/signatures/enrol"]["post"]["security"] == [{"HTTPBearer": []}]


def test_the_page_and_no_routes_without_a_store(client: TestClient, shipped_model: Siamese) -> None:
    page = client.get("/signatures")
    assert page.status_code == 200 and 'id="pad"' in page.text
    plain = TestClient(create_app(shipped_model), raise_server_exceptions=False)
    assert plain.get("/signatures/info").status_code == 404
    assert "/signatures/enrol" not in plain.get("/openapi.json").json()["paths"]


def test_serve_refuses_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from siamdup.cli import app

    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(app, ["serve", "--signatures", str(tmp_path)])
    assert result.exit_code == 2 and "holds other files but no signature store" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine" and not (tmp_path / "manifest.json").exists()
