"""Engine selection and the file-to-MP4 path with a tiny pipeline on a CPU."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def test_diffusion_unavailable_reason_names_what_is_missing(tmp_path, monkeypatch):
    from emocast.diffusion import engine, weights

    monkeypatch.setattr(weights, "cuda_reason", lambda: "no CUDA GPU found")
    assert engine.unavailable_reason(tmp_path) == "no CUDA GPU found"
    monkeypatch.setattr(weights, "cuda_reason", lambda: None)
    assert engine.unavailable_reason(tmp_path) == f"missing {tmp_path / 'emocast' / 'net.pth'}"
    (tmp_path / "emocast").mkdir()
    (tmp_path / "emocast" / "net.pth").write_bytes(b"x")
    assert engine.unavailable_reason(tmp_path) == f"missing {tmp_path / 'sd-vae-ft-mse' / 'config.json'}"


def test_diffusion_engine_selection_without_gpu(tmp_path):
    from emocast.errors import EmocastError
    from emocast.options import GenerateOptions
    from emocast.pipeline import select_engine

    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert select_engine(GenerateOptions(engine="auto", weights=tmp_path)) == "mesh"
    with pytest.raises(EmocastError, match="no CUDA GPU found"):
        select_engine(GenerateOptions(engine="diffusion", weights=tmp_path))


def test_diffusion_mesh_path_never_imports_torch():
    import subprocess

    code = ("import sys; from emocast.options import GenerateOptions; from emocast.pipeline import select_engine;"
            "assert select_engine(GenerateOptions(engine='mesh')) == 'mesh';"
            "assert 'torch' not in sys.modules and 'emocast.diffusion.engine' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_diffusion_generate_tiny_engine_writes_mp4(tiny_pipe, tmp_path):
    """Real portrait + real speech + prompt -> MP4 of the audio's length through generate_diffusion."""
    from emocast.diffusion.engine import generate_diffusion
    from emocast.options import GenerateOptions
    from emocast.video import probe

    import soundfile as sf

    audio, rate = sf.read(ASSETS / "speech" / "hello_en.wav", dtype="float32")
    short = tmp_path / "short.wav"
    sf.write(short, (audio if audio.ndim == 1 else audio.mean(1))[: int(rate * 0.2)], rate)
    embed = lambda image, landmarks: np.resize(image.mean(axis=(0, 1)), 16).astype(np.float32)  # noqa: E731
    options = GenerateOptions(engine="diffusion", size=64, fps=25, steps=1)
    stages = []
    out = generate_diffusion(ASSETS / "portraits" / "hdtf_speaker.jpg", short, "she just got her dream job",
                             tmp_path / "out.mp4", options, lambda s, f: stages.append(s),
                             pipeline=tiny_pipe, face_embedder=embed)
    info = probe(out)
    assert (info.width, info.height, info.num_frames) == (64, 64, 5)
    assert info.audio_codec == "aac" and "diffusion" in stages and stages[-1] == "done"


def test_diffusion_cuda_check_without_gpu_device_files_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; from emocast.diffusion import weights;"
        "weights._GPU_DEVICE_FILES = ('/nonexistent/nvidia0',);"
        "assert weights.cuda_reason() == 'no CUDA GPU found';"
        "assert 'torch' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
