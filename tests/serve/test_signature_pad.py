"""The drawing pad in a real headless Chromium, against `siamdup serve --signatures` on 127.0.0.1:
strokes drawn with the mouse, a pen and a finger (with their pressure) are enrolled and verified."""

import math
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

from siamdup.serve.signature_schemas import SignatureIn
from siamdup.signatures.model import SignatureModel
from siamdup.signatures.verifier import SignatureVerifier

CHROMIUM = os.environ.get("SIAMDUP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [  # as in test_web_page.py: no reaching out to Google's services on a closed network
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "s3cret"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    model_dir = SignatureModel.untrained(seed=0, d_model=16, length=32).save(tmp_path / "model")
    store = tmp_path / "signatures"
    port = _free_port()
    command = [sys.executable, "-m", "siamdup", "serve", "--port", str(port), "--signatures", str(store)]
    server = subprocess.Popen(
        [*command, "--signature-model", str(model_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SIAMDUP_TOKEN": TOKEN},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/signatures/info", timeout=1)
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read().decode() if server.poll() is not None else "(still running)"
                    pytest.fail(f"siamdup serve did not come up: {output}")
                time.sleep(0.2)
        yield url, store, model_dir
    finally:
        server.terminate()
        server.wait(timeout=10)


def curve(box: dict, wobble: float) -> list[tuple[float, float]]:
    """A signature-like loop across the pad, in page coordinates."""
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    return [
        (left + width * (0.1 + 0.8 * s / 40), top + height * (0.5 + 0.3 * math.sin(s / 4 + wobble)))
        for s in range(41)
    ]


def draw_with_mouse(page, box: dict, wobble: float) -> None:
    points = curve(box, wobble)
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=2)
    page.mouse.up()


def draw_with_pen(page, box: dict, force: float) -> None:
    """A pen stroke going up and to the right, sent through the DevTools protocol with a pressure."""
    cdp = page.context.new_cdp_session(page)
    pen = {"pointerType": "pen", "button": "left", "force": force}
    start = (box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.8)
    cdp.send(
        "Input.dispatchMouseEvent",
        {"type": "mousePressed", "x": start[0], "y": start[1], "buttons": 1, "clickCount": 1, **pen},
    )
    for i in range(1, 21):
        x, y = start[0] + box["width"] * 0.03 * i, start[1] - box["height"] * 0.03 * i
        cdp.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y, "buttons": 1, **pen})
    cdp.send(
        "Input.dispatchMouseEvent",
        {"type": "mouseReleased", "x": x, "y": y, "buttons": 0, "clickCount": 1, **pen},
    )
    cdp.detach()


def draw_with_finger(page, box: dict) -> None:
    """A touch stroke going down and to the right, sent through the DevTools protocol."""
    cdp = page.context.new_cdp_session(page)
    x0, y0 = box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.2
    touches = [
        {"x": x0 + box["width"] * 0.01 * i, "y": y0 + box["height"] * 0.03 * i, "force": 0.3}
        for i in range(21)
    ]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [touches[0]]})
    for touch in touches[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [touch]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_enrol_and_verify_on_the_drawing_pad(service: tuple[str, Path, Path]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's chromium (as .ci/run does)")
    url, store, model_dir = service
    model = SignatureModel.load(model_dir)
    expect = sync_api.expect
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(has_touch=True)
            page.goto(url + "/")
            expect(page.locator("#signatures-link")).to_be_visible()  # the main page links the pad
            page.goto(url + "/signatures")
            expect(page.locator("#tau")).to_have_text(f"{model.threshold:.3f}")
            page.locator("#writer").fill("alice")
            page.locator("#token").fill(TOKEN)
            box = page.locator("#pad").bounding_box()
            for n in range(1, 4):
                draw_with_mouse(page, box, wobble=0.05 * n)
                page.locator("#enrol").click()
                expect(page.locator("#status")).to_have_text(
                    f"enrolled: alice now has {n} reference{'s' * (n > 1)}"
                )
            expect(page.locator("#references figure")).to_have_count(3)

            draw_with_mouse(page, box, wobble=0.5)
            draw_with_pen(page, box, force=0.8)
            draw_with_finger(page, box)
            with page.expect_request("**/signatures/verify") as sent:
                page.locator("#verify").click()
            expect(page.locator("#status .badge")).to_be_visible()
            posted = SignatureIn(**sent.value.post_data_json["signature"])
            assert posted.columns == ["x", "y", "t", "pen_down", "pressure"]
            landed = [i for i, row in enumerate(posted.points) if row[3] == 0]  # where each stroke began
            assert landed[0] == 0 and len(landed) == 3
            mouse, pen, finger = (
                posted.points[a:b] for a, b in zip(landed, [*landed[1:], None], strict=True)
            )
            assert len(mouse) > 40 and len(pen) > 20 and len(finger) > 20  # every sample, coalesced ones too
            assert {row[4] for row in mouse} == {0.5}  # a mouse has no pressure: the browser reports 0.5
            assert all(row[4] == pytest.approx(0.8, abs=0.01) for row in pen)
            assert all(row[4] == pytest.approx(0.3, abs=0.01) for row in finger)
            assert pen[-1][1] > pen[0][1] and finger[-1][1] < finger[0][1]  # y grows upward, as on a tablet
            times = [row[2] for row in posted.points]
            assert times == sorted(times) and times[0] == 0

            expected = SignatureVerifier.open(store, model).verify("alice", posted.trajectory("pad"))
            expect(page.locator("#score")).to_have_text(
                f"score {expected.score:.3f} (τ = {model.threshold:.3f}) "
            )
            expect(page.locator("#status .badge")).to_have_text("genuine" if expected.genuine else "forgery")
            captions = [f"#{i + 1}: {s:.3f}" for i, s in enumerate(expected.reference_scores)]
            expect(page.locator("#references figcaption")).to_have_text(captions)

            page.locator("#token").fill("nope")
            page.locator("#enrol").click()
            expect(page.locator("#status")).to_have_text("wrong bearer token")
            page.locator("#clear").click()
            page.locator("#verify").click()
            expect(page.locator("#status")).to_have_text("sign on the pad first")
        finally:
            browser.close()
