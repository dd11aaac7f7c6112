"""The app in a real browser: `python app.py` driven by Debian's Chromium through playwright-core.

Needs /usr/bin/chromium (apt-get install -y chromium) and node_modules/playwright-core (npm ci);
skipped with the reason when either is missing. Screenshots and results.json go to
test-artifacts/app/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import soundfile

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "app" / "browser" / "app_e2e.mjs"
ARTIFACTS = ROOT / "test-artifacts" / "app"
CHROMIUM = Path(os.environ.get("EMOCAST_CHROMIUM", "/usr/bin/chromium"))
PORTRAIT = ROOT / "assets" / "portraits" / "hdtf_speaker.jpg"
SPEECH = ROOT / "assets" / "speech" / "hello_en.wav"
STARTUP_TIMEOUT_S = 90
SCRIPT_TIMEOUT_S = 150


def _missing_tools() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install -y chromium)"
    if shutil.which("node") is None:
        return "node not found (apt-get install -y nodejs npm)"
    if not (ROOT / "node_modules" / "playwright-core" / "package.json").exists():
        return "node_modules/playwright-core not found (run `npm ci` in the repository root)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    """Start `python app.py` on a free port; yield its URL; stop it."""
    missing = _missing_tools()
    if missing:
        pytest.skip(missing)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port), GRADIO_SERVER_NAME="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False")
    log = open(ARTIFACTS / "app.log", "w")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"app.py exited with code {server.returncode}; see {ARTIFACTS / 'app.log'}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"app.py did not answer on {url} within {STARTUP_TIMEOUT_S} s")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _faceless_image(path: Path) -> Path:
    """A 384x384 picture of soft coloured shapes and noise: nothing a face detector should accept."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:384, 0:384] / 384.0
    pixels = np.stack([x, 0.5 + 0.5 * y, 1.0 - x * y], axis=-1) * 200 + rng.normal(0, 8, (384, 384, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 220, 160, 340), fill=(30, 90, 160))
    draw.polygon([(250, 60), (350, 200), (200, 180)], fill=(200, 180, 40))
    image.save(path)
    return path


def test_app_in_browser(app_url, tmp_path):
    """Errors in the page, generate with a preset -> playable video, compare -> two results + grid."""
    env = dict(
        os.environ,
        APP_URL=app_url,
        ARTIFACTS=str(ARTIFACTS),
        PORTRAIT=str(PORTRAIT),
        SPEECH=str(SPEECH),
        FACELESS=str(_faceless_image(tmp_path / "faceless.png")),
        CHROMIUM=str(CHROMIUM),
        SCENARIOS="errors,generate,compare",
    )
    proc = subprocess.run(
        ["node", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT_S
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"browser script failed (screenshots in {ARTIFACTS}):\n{output[-4000:]}"

    results = json.loads((ARTIFACTS / "results.json").read_text())
    assert "face" in results["errors"]["faceless"].lower()
    video = results["generate"]["video"]
    assert (video["width"], video["height"]) == (256, 256) and video["currentTime"] > 0
    assert abs(video["duration"] - soundfile.info(str(SPEECH)).duration) < 0.5
    grid = results["compare"]["grid"]
    assert grid["width"] == 512 and grid["height"] > 256
    for name in ("01_faceless_error", "03_generate_result", "04_compare_result"):
        assert (ARTIFACTS / f"{name}.png").stat().st_size > 0
