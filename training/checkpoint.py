"""Resumable checkpoints: the network in the engine's ``net.pth`` layout plus the training state.

A checkpoint folder ``OUTPUT/checkpoints/<stage>-step<N>/`` holds:

- ``net.pth``: the whole ``Net`` state dict (keys ``reference_unet.``, ``denoising_unet.``,
  ``face_locator.``, ``imageproj.``, ``audioproj.``), the file the diffusion engine loads;
- ``net_ema.pth``: the same with the EMA weights, when EMA is on;
- ``training_state.pt``: optimiser, LR scheduler, grad scaler, EMA, stage index and step;
- ``rng_state_<rank>.pt``: Python, NumPy, torch (CPU and CUDA) random states of each process;
- ``config.yaml``: the configuration it was trained with.

Files are written to a temporary folder and renamed, so a crash never leaves a half checkpoint
that `latest_checkpoint` would pick.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
from pathlib import Path

import numpy as np
import torch

from emocast.errors import EmocastError

logger = logging.getLogger(__name__)

NET_FILE = "net.pth"
EMA_FILE = "net_ema.pth"
STATE_FILE = "training_state.pt"
CONFIG_FILE = "config.yaml"
_NAME = re.compile(r"^(?P<stage>.+)-step(?P<step>\d+)$")


def rng_state() -> dict:
    """Every random state a training step touches."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    folder: str | os.PathLike,
    net_state: dict[str, torch.Tensor] | None,
    training_state: dict,
    config_yaml: str,
    rank: int = 0,
    ema_state: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write one checkpoint folder atomically (rank 0 writes the shared files, every rank its RNG).

    Args:
        folder: the final folder, e.g. OUTPUT/checkpoints/stage1-step500.
        net_state: the full Net state dict (rank 0 only; None on other ranks).
        training_state: optimiser / scheduler / scaler / EMA / step / stage state (rank 0).
        config_yaml: the run's config as YAML text.
        ema_state: Net state dict with EMA weights, if EMA is on.
    """
    folder = Path(folder)
    tmp = folder.with_name(f".{folder.name}.tmp")
    if rank == 0:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        torch.save(net_state, tmp / NET_FILE)
        if ema_state is not None:
            torch.save(ema_state, tmp / EMA_FILE)
        torch.save(training_state, tmp / STATE_FILE)
        (tmp / CONFIG_FILE).write_text(config_yaml)
        torch.save(rng_state(), tmp / "rng_state_0.pt")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    else:
        folder.mkdir(parents=True, exist_ok=True)  # rank 0 made it already under a barrier
        torch.save(rng_state(), folder / f"rng_state_{rank}.pt")
    return folder


def load_checkpoint(folder: str | os.PathLike, rank: int = 0) -> tuple[dict, dict, dict | None]:
    """(net state dict, training state, RNG state of this rank or None) of a checkpoint folder."""
    folder = Path(folder)
    for name in (NET_FILE, STATE_FILE):
        if not (folder / name).is_file():
            raise EmocastError(f"{folder} is not a training checkpoint (no {name}); give a checkpoints/<stage>-step<N> folder")
    net_state = torch.load(folder / NET_FILE, map_location="cpu", weights_only=True)
    training_state = torch.load(folder / STATE_FILE, map_location="cpu", weights_only=False)
    rng_path = folder / f"rng_state_{rank}.pt"
    rng = torch.load(rng_path, map_location="cpu", weights_only=False) if rng_path.is_file() else None
    return net_state, training_state, rng


def latest_checkpoint(path: str | os.PathLike) -> Path:
    """The checkpoint to resume from: `path` itself, or the newest one under `path`/checkpoints."""
    path = Path(path).expanduser()
    if (path / STATE_FILE).is_file():
        return path
    folder = path / "checkpoints" if (path / "checkpoints").is_dir() else path
    found = [p for p in folder.iterdir() if p.is_dir() and _NAME.match(p.name) and (p / STATE_FILE).is_file()] if folder.is_dir() else []
    if not found:
        raise EmocastError(f"no checkpoint found in {path}; give a checkpoints/<stage>-step<N> folder or an output folder")
    return max(found, key=lambda p: (torch.load(p / STATE_FILE, map_location="cpu", weights_only=False)["global_step"], p.stat().st_mtime))


def prune_checkpoints(folder: str | os.PathLike, keep: int) -> None:
    """Delete all but the `keep` newest step checkpoints of a checkpoints folder."""
    folder = Path(folder)
    found = sorted((p for p in folder.iterdir() if p.is_dir() and _NAME.match(p.name)), key=lambda p: p.stat().st_mtime)
    for old in found[: max(0, len(found) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def load_net_weights(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """A Net state dict from a net.pth / .safetensors file or a checkpoint folder."""
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / NET_FILE
    if not path.is_file():
        raise EmocastError(f"network weights {path} do not exist; give a net.pth or a checkpoint folder")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)
