"""The web page in a real headless Chromium, against `siamdup serve` started on 127.0.0.1."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from helpers import FORUM_QUESTIONS

from siamdup import Siamese
from siamdup.index import DuplicateIndex
from siamdup.verify import Verifier

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


@contextmanager
def serving(model: Siamese, folder: Path, *options: str) -> Iterator[str]:
    """`siamdup serve` with `options` on an index of the forum questions; yields its URL once it answers."""
    index = DuplicateIndex(model)
    index.add(list(FORUM_QUESTIONS), list(FORUM_QUESTIONS.values()))
    index.save(folder / "ix")
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siamdup",
            "serve",
            "--index",
            str(folder / "ix"),
            "--port",
            str(port),
            *options,
        ],
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


@pytest.fixture
def service(shipped_model: Siamese, tmp_path: Path) -> Iterator[str]:
    with serving(shipped_model, tmp_path) as url:
        yield url


@pytest.fixture
def verified_service(shipped_model: Siamese, random_verifier_dir: Path, tmp_path: Path) -> Iterator[str]:
    with serving(
        shipped_model, tmp_path, "--verifier", str(random_verifier_dir), "--verifier-runtime", "torch"
    ) as url:
        yield url


def playwright_or_skip():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium (as .ci/run does)")
    return sync_api


def test_typing_a_question_lists_its_known_duplicate_first(service: str, shipped_model: Siamese) -> None:
    sync_api = playwright_or_skip()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(service + "/")
            sync_api.expect(page.locator("#tau")).to_have_text(f"{shipped_model.threshold:.3f}")
            assert page.locator("#verify-option").is_hidden()  # no verifier loaded: no checkbox
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


def test_the_verify_checkbox_shows_both_scores_and_both_decisions(
    verified_service: str, shipped_model: Siamese, random_verifier_dir: Path
) -> None:
    sync_api = playwright_or_skip()
    verifier = Verifier.load(random_verifier_dir)
    asked, other = "How do I learn Python?", "How do I cook rice?"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(verified_service + "/")
            sync_api.expect(page.locator("#verify-option")).to_be_visible()
            sync_api.expect(page.locator("#verifier-threshold")).to_have_text("0.450")
            page.locator("#verify").check()
            page.locator("#question").fill(asked)  # one input event: one request to wait for
            sync_api.expect(page.locator("#matches li")).to_have_count(5)
            sync_api.expect(page.locator("#matches li .verification")).to_have_count(5)
            for item in page.locator("#matches li").all():
                text = FORUM_QUESTIONS[item.get_attribute("data-id")]
                probability = float(verifier.score([asked], [text])[0])
                similarity = float(shipped_model.similarity([asked], [text])[0])
                sync_api.expect(item.locator(".verification")).to_have_text(f"{probability:.3f}")
                sync_api.expect(item.locator(".score").first).to_have_text(f"{similarity:.3f}")
                verdict = "duplicate" if probability > 0.45 else "not a duplicate"
                sync_api.expect(item.locator(".by-verifier")).to_have_text(f"verifier: {verdict}")
                cosine = "duplicate" if similarity > shipped_model.threshold else "not a duplicate"
                sync_api.expect(item.locator(".by-cosine")).to_have_text(f"cosine: {cosine}")

            page.locator("#q1").fill(asked)
            page.locator("#q2").fill(other)
            probability = float(verifier.score([asked], [other])[0])
            similarity = float(shipped_model.similarity([asked], [other])[0])
            expected = f"similarity {similarity:.3f} · verifier {probability:.3f}"
            sync_api.expect(page.locator("#verdict")).to_contain_text(expected)
            sync_api.expect(page.locator("#verdict .by-cosine")).to_have_text("cosine: not a duplicate")
            sync_api.expect(page.locator("#verdict .by-verifier")).to_be_visible()

            page.locator("#verify").uncheck()  # back to the cosine alone
            sync_api.expect(page.locator("#verdict")).not_to_contain_text("verifier")
            sync_api.expect(page.locator("#verdict .badge")).to_have_text("not a duplicate")
            sync_api.expect(page.locator("#matches li .verification")).to_have_count(0)
        finally:
            browser.close()
