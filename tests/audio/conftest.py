"""Shared fixtures: real speech made with espeak-ng, encoded with the ffmpeg binary of imageio-ffmpeg."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def espeak(text: str, path: Path, speed: int = 140) -> Path:
    """Synthesise `text` with espeak-ng (US English) into a wav file."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(speed), "-w", str(path), text], check=True)
    return path


def ffmpeg(*args: str) -> None:
    """Run the ffmpeg binary that ships with imageio-ffmpeg."""
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    """About 2 s of real(istic) speech."""
    return espeak("the quick brown fox jumps over the lazy dog", tmp_path_factory.mktemp("speech") / "fox.wav")


@pytest.fixture(scope="session")
def make_speech(tmp_path_factory):
    """Factory: text -> wav path (cached per text)."""
    folder = tmp_path_factory.mktemp("phrases")
    cache: dict[str, Path] = {}

    def make(text: str) -> Path:
        if text not in cache:
            cache[text] = espeak(text, folder / f"{len(cache)}.wav")
        return cache[text]

    return make


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    sf.write(str(path), samples.astype(np.float32), rate, subtype="PCM_16")
    return path
