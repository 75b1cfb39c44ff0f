"""`siamdup serve` passes its limits and folding options to the service, and refuses bad ones by name."""

import sys
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from siamdup.cli import app
from siamdup.verify import Verifier

runner = CliRunner()


@pytest.fixture
def served_apps(monkeypatch: pytest.MonkeyPatch) -> list:
    apps: list = []
    monkeypatch.setattr(uvicorn, "run", lambda served, **_: apps.append(served))
    return apps


def test_the_options_reach_the_service(served_apps: list, tmp_path: Path) -> None:
    options = ["--max-body-bytes", "4096", "--fold-every-adds", "7", "--fold-every-seconds", "30"]
    options += ["--query-batch", "5", "--query-threads", "2", "--build-threads", "3"]
    result = runner.invoke(app, ["serve", "--index", str(tmp_path / "ix"), *options])
    assert result.exit_code == 0, result.output
    (served,) = served_apps
    assert served.state.store.settings.fold_every_adds == 7
    assert served.state.store.settings.fold_every_seconds == 30
    assert (served.state.batcher.batch, served.state.batcher.threads) == (5, 2)
    assert served.state.store.switch.threads == 3
    client = TestClient(served)
    assert client.get("/health").json()["max_body_bytes"] == 4096
    assert client.post("/similarity", content=b"[" * 5000).status_code == 413


def test_bad_settings_are_refused_by_option_name(served_apps: list, tmp_path: Path) -> None:
    options = ["--max-body-bytes", "10", "--fold-every-seconds", "0", "--query-threads", "0"]
    result = runner.invoke(app, ["serve", *options])
    assert result.exit_code != 0 and not served_apps
    assert "--max-body-bytes" in result.output and "--fold-every-seconds" in result.output
    assert "--query-threads" in result.output
    assert "Traceback" not in result.output


def test_a_verifier_is_loaded_once_and_serves_verify(
    served_apps: list, random_verifier_dir: Path, tmp_path: Path
) -> None:
    options = [
        "--verifier",
        str(random_verifier_dir),
        "--verifier-runtime",
        "torch",
        "--max-verified-pairs",
        "7",
    ]
    result = runner.invoke(app, ["serve", "--index", str(tmp_path / "ix"), *options])
    assert result.exit_code == 0, result.output
    (served,) = served_apps
    assert served.state.verifier.max_pairs == 7 and served.state.verifier.threshold == 0.45
    pair = {"question1": "How old are you?", "question2": "What is your age?"}
    answer = TestClient(served).post("/similarity", json={"pairs": [pair], "verify": True}).json()
    expected = Verifier.load(random_verifier_dir).score([pair["question1"]], [pair["question2"]])[0]
    assert answer["results"][0]["verification"] == pytest.approx(expected, abs=1e-5)


def test_a_verifier_that_cannot_run_stops_the_start_by_name(
    served_apps: list, random_verifier_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the extra were not installed
    index = tmp_path / "ix"
    options = ["--index", str(index), "--verifier", str(random_verifier_dir), "--verifier-runtime", "onnx"]
    result = runner.invoke(app, ["serve", *options])
    assert result.exit_code == 2 and 'pip install "siamdup[verify]"' in result.output
    assert not served_apps and not index.exists() and "Traceback" not in result.output
    for bad in (["--verifier", str(tmp_path / "nowhere")], ["--max-verified-pairs", "0"]):
        result = runner.invoke(app, ["serve", *bad, "--verifier-runtime", "torch"])
        assert result.exit_code != 0 and not served_apps and "Traceback" not in result.output
        assert (
            "no verifier directory" if bad[0] == "--verifier" else "--max-verified-pairs"
        ) in result.output
