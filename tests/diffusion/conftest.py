"""Tiny seeded EmoCAST components shared by the diffusion tests (CPU, one thread, seconds)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    # the tiny models are far faster on one thread than with oversubscribed cores
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def tiny_config():
    from emocast.diffusion.config import tiny_config

    return tiny_config()


@pytest.fixture(scope="session")
def tiny_pipe():
    from emocast.diffusion.tiny import tiny_pipeline

    return tiny_pipeline(seed=0)


@pytest.fixture(scope="session")
def inputs():
    """A 32x32 portrait-like image, 0.24 s of a 16 kHz voiced tone, a 16-d face embedding, masks."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:32, 0:32]
    face = ((xx - 16) ** 2 / 100 + (yy - 15) ** 2 / 150) < 1
    portrait = np.where(face[..., None], [200, 150, 120], [40, 60, 90]).astype(np.uint8)
    portrait = np.clip(portrait + rng.integers(0, 20, portrait.shape), 0, 255).astype(np.uint8)
    t = np.arange(int(16000 * 0.24)) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 4 * t))).astype(np.float32)
    lips = ((xx - 16) ** 2 / 30 + (yy - 23) ** 2 / 8) < 1
    masks = np.stack([np.ones((32, 32)), face, lips]).astype(np.float32)
    return {"portrait": portrait, "audio": audio, "face_embeds": rng.standard_normal(16).astype(np.float32),
            "region_masks": masks, "face_region": face.astype(np.float32)}
