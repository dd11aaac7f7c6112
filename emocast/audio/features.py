"""Short-time features at 100 frames per second, shared by voice activity, prosody and visemes.

Everything is computed in one vectorised pass over 25 ms windows with a 10 ms hop, in blocks so
a 10-minute clip never holds more than a few MB of spectra at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emocast.audio.track import SAMPLE_RATE

HOP_SECONDS = 0.010  # 10 ms hop -> 100 analysis frames per second
WIN_SECONDS = 0.025  # 25 ms window
HOP = int(SAMPLE_RATE * HOP_SECONDS)  # 160 samples
WIN = int(SAMPLE_RATE * WIN_SECONDS)  # 400 samples
N_FFT = 512
_BLOCK_FRAMES = 4096  # frames per vectorised block (~8 MB of float32 spectra)
EPS = 1e-10


@dataclass
class FrameFeatures:
    """Per 10 ms analysis frame (frame k is centred at k * HOP_SECONDS)."""

    energy_db: np.ndarray  # (K,) float32, RMS level in dBFS (-100 for digital silence)
    flatness: np.ndarray  # (K,) float32, spectral flatness 0..1 (1 = white noise)
    zcr: np.ndarray  # (K,) float32, zero crossings per sample 0..1
    centroid: np.ndarray  # (K,) float32, spectral centroid in Hz (of 100..5000 Hz)
    low_db: np.ndarray  # (K,) float32, band level 200..900 Hz (F1 region) in dB
    high_db: np.ndarray  # (K,) float32, band level 1400..3500 Hz (front-vowel F2/F3 region) in dB

    @property
    def rate(self) -> float:
        """Analysis frames per second."""
        return 1.0 / HOP_SECONDS

    def __len__(self) -> int:
        return len(self.energy_db)


def num_analysis_frames(num_samples: int) -> int:
    """Number of 10 ms frames covering `num_samples` (at least 1)."""
    return max(1, int(np.ceil(num_samples / HOP)))


def frame_features(samples: np.ndarray) -> FrameFeatures:
    """Compute FrameFeatures for mono 16 kHz samples.

    Args:
        samples: (N,) float32 in [-1, 1] at SAMPLE_RATE.
    """
    num_frames = num_analysis_frames(len(samples))
    padded = np.pad(samples.astype(np.float32, copy=False), (WIN // 2, WIN + HOP))
    window = np.hanning(WIN).astype(np.float32)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    band = (freqs >= 100) & (freqs <= 5000)
    low = (freqs >= 200) & (freqs <= 900)
    high = (freqs >= 1400) & (freqs <= 3500)
    out = {k: np.empty(num_frames, np.float32) for k in ("energy_db", "flatness", "zcr", "centroid", "low_db", "high_db")}
    for start in range(0, num_frames, _BLOCK_FRAMES):
        stop = min(num_frames, start + _BLOCK_FRAMES)
        idx = np.arange(start, stop)[:, None] * HOP + np.arange(WIN)[None, :]
        frames = padded[idx]  # (B, WIN)
        rms = np.sqrt(np.mean(frames**2, axis=1))
        out["energy_db"][start:stop] = np.maximum(20 * np.log10(rms + EPS), -100.0)
        signs = np.signbit(frames)
        out["zcr"][start:stop] = np.mean(signs[:, 1:] != signs[:, :-1], axis=1)
        power = np.abs(np.fft.rfft(frames * window, n=N_FFT, axis=1)) ** 2 + EPS  # (B, N_FFT/2+1)
        p_band = power[:, band]
        out["flatness"][start:stop] = np.exp(np.mean(np.log(p_band), axis=1)) / np.mean(p_band, axis=1)
        out["centroid"][start:stop] = (p_band @ freqs[band]) / np.sum(p_band, axis=1)
        out["low_db"][start:stop] = 10 * np.log10(np.mean(power[:, low], axis=1))
        out["high_db"][start:stop] = 10 * np.log10(np.mean(power[:, high], axis=1))
    return FrameFeatures(**out)


def to_video_frames(values: np.ndarray, num_frames: int, fps: float, reduce: str = "mean") -> np.ndarray:
    """Resample a 100 Hz analysis-frame series to video frames by averaging over each frame.

    Video frame i covers [i / fps, (i + 1) / fps) seconds.

    Args:
        values: (K,) per analysis frame (bool arrays are averaged as fractions).
        num_frames: number of video frames F.
        fps: video frames per second.
        reduce: "mean" or "max" over the analysis frames inside each video frame.

    Returns:
        (F,) float32.
    """
    values = np.asarray(values, dtype=np.float32)
    rate = 1.0 / HOP_SECONDS
    edges = np.round(np.arange(num_frames + 1) / fps * rate).astype(np.int64)
    edges = np.clip(edges, 0, len(values))
    lo, hi = edges[:-1], np.maximum(edges[1:], edges[:-1] + 1)
    hi = np.minimum(hi, len(values))
    lo = np.minimum(lo, hi - 1)
    lo = np.maximum(lo, 0)
    if reduce == "max":
        return np.array([values[a:b].max() for a, b in zip(lo, hi)], dtype=np.float32)
    csum = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    return ((csum[hi] - csum[lo]) / (hi - lo)).astype(np.float32)
