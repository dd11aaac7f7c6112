"""Shared inputs for the mesh engine's tests: real portraits (detected once) and synthetic tracks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from emocast.audio.track import Prosody, SpeechFeatures, VisemeTrack
from emocast.emotion.plan import AU_NAMES, ExpressionTrack
from emocast.face.geometry import FaceGeometry
from emocast.options import GenerateOptions

PORTRAITS = Path(__file__).resolve().parents[2] / "assets" / "portraits"
CLOSED_LIPS = Path(__file__).resolve().parents[1] / "data" / "closed_lips_hdtf.jpg"  # see tests/data/README.md
CROP_SIZE = 256


@lru_cache(maxsize=None)
def portrait(name: str) -> tuple[FaceGeometry, FaceGeometry]:
    """(full picture, 256 px face crop) of assets/portraits/<name>.jpg."""
    return detected(PORTRAITS / f"{name}.jpg")


@lru_cache(maxsize=None)
def detected(path: Path) -> tuple[FaceGeometry, FaceGeometry]:
    """(full picture, 256 px face crop) of the portrait at `path`, detected once per session."""
    from emocast.face.crop import crop_face
    from emocast.face.detect import detect_face
    from emocast.face.image import load_portrait

    full = detect_face(load_portrait(path))
    return full, crop_face(full, CROP_SIZE)


def expression(aus: dict[str, float], n: int, fps: float = 25.0) -> ExpressionTrack:
    values = np.zeros((n, len(AU_NAMES)), np.float32)
    for name, value in aus.items():
        values[:, AU_NAMES.index(name)] = value
    return ExpressionTrack(fps=fps, au_names=AU_NAMES, values=values, intensity=np.ones(n, np.float32),
                           emotions=["neutral"] * n)


def speech(n: int, fps: float = 25.0, jaw: np.ndarray | None = None, loudness: np.ndarray | None = None) -> SpeechFeatures:
    zeros = np.zeros(n, np.float32)
    jaw = zeros if jaw is None else np.asarray(jaw, np.float32)
    loud = jaw.copy() if loudness is None else np.asarray(loudness, np.float32)
    return SpeechFeatures(num_frames=n, fps=fps, prosody=Prosody(fps, loud, zeros + 140.0, loud > 0.1),
                          visemes=VisemeTrack(fps, jaw, zeros, zeros, zeros))


def still(**overrides) -> GenerateOptions:
    """Options for a still head without blinks (expression tests)."""
    return GenerateOptions(**{"head_motion": 0.0, "blink": False, **overrides})


@pytest.fixture(scope="session")
def hdtf():
    return portrait("hdtf_speaker")


@pytest.fixture(scope="session")
def astronaut():
    return portrait("astronaut")


@pytest.fixture(scope="session")
def closed_lips():
    """A frame of the HDTF clip whose lips are closed (tests/data/closed_lips_hdtf.jpg)."""
    return detected(CLOSED_LIPS)
