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
        (["--prompt", "x" * 1001], "keep it under 1000"),
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
