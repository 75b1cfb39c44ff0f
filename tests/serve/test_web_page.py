"""The web page in a real headless Chromium, against `siamdup serve` started on 127.0.0.1."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import FORUM_QUESTIONS

from siamdup import Siamese
from siamdup.index import DuplicateIndex

CHROMIUM = os.environ.get("SIAMDUP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Without these Chromium keeps trying to reach Google's services, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def service(shipped_model: Siamese, tmp_path: Path) -> Iterator[str]:
    index = DuplicateIndex(shipped_model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    index.save(tmp_path / "ix")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "siamdup", "serve", "--index", str(tmp_path / "ix"), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.poll() is not None else "(still running)"
                    pytest.fail(f"siamdup serve did not come up: {output}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_typing_a_question_lists_its_known_duplicate_first(service: str, shipped_model: Siamese) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium (as .ci/run does)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(service + "/")
            sync_api.expect(page.locator("#tau")).to_have_text(f"{shipped_model.threshold:.3f}")
            page.locator("#question").press_sequentially("How do I learn Python?", delay=20)  # as typed
            first = page.locator("#matches li").first
            sync_api.expect(first).to_contain_text(FORUM_QUESTIONS["py"])
            sync_api.expect(first.locator(".badge")).to_have_text("duplicate")
            assert first.get_attribute("data-id") == "py"
            assert page.locator("#matches li").count() == 5
            sync_api.expect(page.locator("#matches li").nth(1).locator(".badge")).to_have_text(
                "not a duplicate"
            )

            page.locator("#q1").fill("How do I learn Python?")
            page.locator("#q2").fill("What is the best way to learn Python?")
            sync_api.expect(page.locator("#verdict")).to_contain_text("duplicate")
            score = shipped_model.similarity(["How do I learn Python?"], [FORUM_QUESTIONS["py"]])[0]
            sync_api.expect(page.locator("#verdict")).to_contain_text(f"similarity {score:.3f}")
            page.locator("#q2").fill("How do I cook rice?")
            sync_api.expect(page.locator("#verdict .badge")).to_have_text("not a duplicate")

            page.goto(service + "/docs")  # the API docs render from local files, with no network
            sync_api.expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
            assert "/duplicates" in page.locator(".swagger-ui").inner_text()
        finally:
            browser.close()
