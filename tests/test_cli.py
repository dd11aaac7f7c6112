"""CLI behaviour that does not depend on a stage: argument checks and one-line user errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from emocast.cli import main


def _run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--intensity", "1.5"], "intensity must be between 0 and 1"),
        (["--size", "33"], "size must be an even number"),
        (["--fps", "0"], "fps must be between 1 and 60"),
        (["--prompt", "x" * 1001], "keep it to 1000 at most"),
        (["--seed", "-1"], "seed must be a whole number"),
        (["--max-audio-seconds", "nan"], "max audio seconds must be a number"),
        (["--max-audio-seconds", "inf"], "max audio seconds must be a positive number"),
    ],
)
def test_generate_rejects_bad_options(tmp_path, capsys, portrait_closed, speech_short, extra, message):
    args = ["generate", "--image", str(portrait_closed), "--audio", str(speech_short), "--out", str(tmp_path / "o.mp4")]
    if "--prompt" not in extra:
        args += ["--prompt", "happy"]
    code, out, err = _run(args + extra, capsys)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "which, message",
    [("image", "image file .* does not exist"), ("audio", "audio file .* does not exist"), ("out", "does not exist")],
)
def test_generate_rejects_missing_paths(tmp_path, capsys, portrait_closed, speech_short, which, message):
    paths = {"image": str(portrait_closed), "audio": str(speech_short), "out": str(tmp_path / "o.mp4")}
    paths[which] = str(tmp_path / "nowhere" / ("o.mp4" if which == "out" else "missing.bin"))
    code, _, err = _run(
        ["generate", "--image", paths["image"], "--audio", paths["audio"], "--prompt", "sad", "--out", paths["out"]],
        capsys,
    )
    assert code == 2
    import re

    assert re.search(message, err), err


def test_generate_refuses_to_overwrite_an_input(tmp_path, capsys, portrait_closed):
    audio = tmp_path / "speech.mp4"
    audio.write_bytes(Path(portrait_closed).read_bytes())
    before = audio.read_bytes()
    code, _, err = _run(
        ["generate", "--image", str(portrait_closed), "--audio", str(audio), "--prompt", "sad", "--out", str(audio)],
        capsys,
    )
    assert code == 2 and "input" in err
    assert audio.read_bytes() == before


def test_help_is_fast_and_does_not_import_torch():
    code = (
        "import sys, emocast.cli as c; c.build_parser();"
        "assert 'torch' not in sys.modules and 'mediapipe' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    proc = subprocess.run([sys.executable, "-m", "emocast", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "generate" in proc.stdout


def test_generate_tells_about_a_small_face_and_an_empty_prompt(tmp_path, capsys, portrait_closed, speech_short):
    """Warnings from the stages (here the crop's and the prompt's) reach the user as one line each."""
    from PIL import Image

    small = tmp_path / "small.png"
    Image.open(portrait_closed).resize((96, 96)).save(small)
    code, out, err = _run(["generate", "--image", str(small), "--audio", str(speech_short), "--prompt", "",
                           "--size", "256", "--quiet", "--out", str(tmp_path / "o.mp4")], capsys)
    assert code == 0 and out.strip().endswith("o.mp4")
    lines = [line for line in err.splitlines() if line]
    assert any(line.startswith("emocast: warning: the face is small in the photo") for line in lines)
    assert any(line.startswith("emocast: warning: the prompt is empty") for line in lines)
    assert all(line.startswith("emocast: warning: ") for line in lines)


def test_an_error_after_progress_starts_on_its_own_line(tmp_path, capsys, speech_short):
    picture = tmp_path / "noise.png"
    import numpy as np
    from PIL import Image

    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(picture)
    code, _, err = _run(["generate", "--image", str(picture), "--audio", str(speech_short), "--prompt", "happy",
                         "--out", str(tmp_path / "o.mp4")], capsys)
    assert code == 2
    assert "\nemocast: error: no face" in err or err.startswith("emocast: error: no face")


def test_progress_in_a_log_is_one_line_per_stage(tmp_path, portrait_closed, speech_short):
    """stderr redirected to a file: no carriage returns, each stage once, on its own line."""
    log = tmp_path / "log.txt"
    with open(log, "w") as stderr:
        proc = subprocess.run([sys.executable, "-m", "emocast", "generate", "--image", str(portrait_closed),
                               "--audio", str(speech_short), "--prompt", "happy", "--size", "256",
                               "--out", str(tmp_path / "o.mp4")], stderr=stderr, stdout=subprocess.PIPE, timeout=300)
    assert proc.returncode == 0
    text = log.read_text()
    assert "\r" not in text
    stages = [line.split()[0] for line in text.splitlines() if line and not line.startswith("emocast:")]
    assert len(stages) == len(set(stages)) >= 4, stages
    assert "render" in stages and stages[-1] == "done"


def test_sigterm_leaves_no_partial_video(tmp_path, portrait_closed, speech_real):
    """`kill` (or a closed terminal) during the render: exit 143, no .part file, nothing at --out."""
    import signal
    import time

    out = tmp_path / "o.mp4"
    proc = subprocess.Popen([sys.executable, "-m", "emocast", "generate", "--quiet", "--image", str(portrait_closed),
                             "--audio", str(speech_real), "--prompt", "happy", "--size", "256", "--out", str(out)],
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob(".*.part.mp4")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err
    assert not any(tmp_path.iterdir())
