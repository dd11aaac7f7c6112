"""The synthetic mini-dataset (built once per session) and a tiny training config around it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from training.build_dataset import BuildOptions, build_dataset
from training.synthetic import make_faceless_video, make_synthetic_videos

CLIP_SIZE = 96  # pixels: small clips keep the builder fast
CLIP_SECONDS = 0.8  # 20 frames at 25 fps: enough for a 4 + 2 frame stage-2 window


@pytest.fixture(scope="session")
def mini_videos(tmp_path_factory) -> Path:
    """Mesh-engine clips named like MEAD / HDTF / wild videos, plus a corrupt and a faceless video."""
    folder = tmp_path_factory.mktemp("etth") / "videos"
    make_synthetic_videos(folder, size=CLIP_SIZE, seconds=CLIP_SECONDS)
    (folder / "broken").mkdir()
    (folder / "broken" / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    make_faceless_video(folder / "broken" / "no_face.mp4")
    return folder


@pytest.fixture(scope="session")
def mini_dataset(mini_videos) -> tuple[Path, dict]:
    """The ETTH builder run once on the mini videos: (dataset folder, counts)."""
    out = mini_videos.parent / "dataset"
    counts = build_dataset(mini_videos, out, BuildOptions(size=CLIP_SIZE, texts=4), workers=1, progress=False)
    return out, counts


@pytest.fixture()
def one_thread():
    """torch on one thread: the tiny models are faster so on a shared 2-core machine."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture()
def make_config():
    """make_config(dataset, stages, **sections) -> a tiny TrainConfig."""
    return _tiny_config


def _tiny_config(dataset: Path, stages: list[dict], **sections):
    """A TrainConfig with tiny models on `dataset`; `sections` update model/data/optim/logging keys."""
    from training.config import config_from_dict

    raw = {
        "seed": 0,
        "model": {"size": "tiny", "resolution": 32},
        "data": {"roots": [str(dataset)], "num_frames": 4, "motion_frames": 2},
        "optim": {"learning_rate": 1e-4, "batch_size": 2, "use_8bit_adam": False},
        "logging": {"report_to": "none", "log_every": 1, "checkpoint_every": 1000},
        "stages": stages,
    }
    for section, values in sections.items():
        raw[section].update(values)
    return config_from_dict(raw, "test config")


@pytest.fixture()
def fresh_dir(tmp_path) -> Path:
    yield tmp_path / "run"
    shutil.rmtree(tmp_path / "run", ignore_errors=True)
