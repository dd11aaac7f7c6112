"""Shared fixtures for the face stage: the two bundled portraits and their detected faces."""

from pathlib import Path

import numpy as np
import pytest

PORTRAITS = Path(__file__).resolve().parents[2] / "assets" / "portraits"


@pytest.fixture(scope="session")
def portrait_paths() -> dict[str, Path]:
    return {"astronaut": PORTRAITS / "astronaut.jpg", "speaker": PORTRAITS / "hdtf_speaker.jpg"}


@pytest.fixture(scope="session")
def portraits(portrait_paths) -> dict[str, np.ndarray]:
    from emocast.face.image import load_portrait

    return {name: load_portrait(path) for name, path in portrait_paths.items()}


@pytest.fixture(scope="session")
def faces(portraits):
    from emocast.face.detect import detect_face

    return {name: detect_face(image) for name, image in portraits.items()}
