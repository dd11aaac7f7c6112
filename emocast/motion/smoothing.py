"""Temporal smoothing helpers shared by the motion planners (all causal-free, whole-clip filters)."""

from __future__ import annotations

import numpy as np


def gaussian_smooth(x: np.ndarray, sigma_frames: float) -> np.ndarray:
    """Gaussian low-pass along axis 0 with edge padding.

    Args:
        x: (F,) or (F, C) signal.
        sigma_frames: standard deviation of the kernel in frames; <= 0.3 returns x unchanged.
    """
    x = np.asarray(x, np.float64)
    if sigma_frames <= 0.3 or len(x) < 2:
        return x.copy()
    radius = int(np.ceil(3 * sigma_frames))
    t = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (t / sigma_frames) ** 2)
    kernel /= kernel.sum()
    pad = [(radius, radius)] + [(0, 0)] * (x.ndim - 1)
    xp = np.pad(x, pad, mode="edge")
    if x.ndim == 1:
        return np.convolve(xp, kernel, mode="valid")
    return np.stack([np.convolve(xp[:, c], kernel, mode="valid") for c in range(x.shape[1])], axis=1)


def lowpass_noise(n: int, fps: float, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """(n,) smooth noise with unit standard deviation whose fastest changes take ~`seconds`.

    The scale is normalised by the filter's theoretical gain, not by the clip's own std, so the
    amplitude does not depend on the clip's length.
    """
    sigma = max(seconds * fps / 2.0, 1.0)
    radius = int(np.ceil(3 * sigma))
    white = rng.standard_normal(n + 2 * radius)
    t = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    gain = np.sqrt((kernel**2).sum())
    return np.convolve(white, kernel / gain, mode="valid")[:n]
