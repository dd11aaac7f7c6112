"""Shared fixtures: the bundled public-domain portraits and speech, and the shared/ fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ASSETS = REPO / "assets"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def portrait_closed() -> Path:
    """A frontal, closed-mouth portrait (HDTF speaker, public domain)."""
    return ASSETS / "portraits" / "hdtf_speaker.jpg"


@pytest.fixture(scope="session")
def portrait_smiling() -> Path:
    """A smiling portrait with visible teeth (NASA astronaut, public domain)."""
    return ASSETS / "portraits" / "astronaut.jpg"


@pytest.fixture(scope="session")
def speech_short() -> Path:
    """6.3 s of synthetic English speech (espeak-ng), 16 kHz."""
    return ASSETS / "speech" / "hello_en.wav"


@pytest.fixture(scope="session")
def speech_real() -> Path:
    """11 s of real speech (JFK, public domain)."""
    return ASSETS / "speech" / "jfk_11s.flac"


@pytest.fixture(scope="session")
def talking_head_video() -> Path:
    """8 s real talking-head clip with audio (HDTF, public domain), from shared/fixtures."""
    path = SHARED_FIXTURES / "real_talking_head_hdtf_wda.mp4"
    if not path.exists():
        pytest.skip(f"shared fixture missing: {path}")
    return path
