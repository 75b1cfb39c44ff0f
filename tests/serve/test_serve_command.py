"""`siamdup serve` passes its limits and folding options to the service, and refuses bad ones by name."""

from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from siamdup.cli import app

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
