"""Prosody per video frame: normalised loudness and pitch (YIN, vectorised NumPy).

Pitch follows de Cheveigné & Kawahara's YIN (2002): the cumulative-mean-normalised difference
function, the first dip under an absolute threshold, parabolic refinement. It runs on 10 ms
analysis frames in blocks and is then pooled to the video frame rate.
"""

from __future__ import annotations

import numpy as np

from emocast.audio.features import HOP, FrameFeatures, to_video_frames
from emocast.audio.track import SAMPLE_RATE, Prosody
from emocast.audio.vad import ABS_MIN_DB

LOUDNESS_RANGE_DB = 40.0  # loudness 0..1 spans this many dB below the clip's speech peak
MIN_PEAK_DB = -50.0  # dBFS; a clip quieter than this is not stretched to full loudness
F0_MIN, F0_MAX = 60.0, 500.0  # Hz, the range of speaking voices
YIN_RATE = 8000  # Hz; YIN runs on the 50..1000 Hz band, decimated by 2 (half the work)
YIN_WINDOW = 240  # samples at YIN_RATE (30 ms) integrated by the difference function
YIN_THRESHOLD = 0.15  # first CMND dip below this is the period
YIN_MAX_APERIODICITY = 0.35  # frames whose best dip is above this are unvoiced
_DECIMATE = SAMPLE_RATE // YIN_RATE
_YIN_HOP = HOP // _DECIMATE  # 80 samples = 10 ms
_TAU_MIN = int(YIN_RATE / F0_MAX)  # 16 samples
_TAU_MAX = int(np.ceil(YIN_RATE / F0_MIN))  # 134 samples
_YIN_FFT = 512  # >= YIN_WINDOW + _TAU_MAX, power of two
_BLOCK = 2048  # analysis frames per vectorised block


def compute_prosody(
    samples: np.ndarray, features: FrameFeatures, active: np.ndarray, fps: float, num_frames: int
) -> Prosody:
    """Loudness, pitch and voice activity per video frame.

    Args:
        samples: (N,) float32 mono at 16 kHz.
        features: FrameFeatures of the same samples.
        active: (K,) bool voice activity per analysis frame.
        fps: video frames per second.
        num_frames: video frames F.
    """
    loudness = loudness_per_frame(features, active, fps, num_frames)
    # pitch needs periodicity and some level, not voice activity: a sung or held vowel has a pitch
    # even when it never pauses (which is what the adaptive VAD floor looks for)
    f0 = yin_pitch(samples, num_analysis=len(features), mask=features.energy_db > ABS_MIN_DB)
    pitch = _pool_pitch(f0, fps, num_frames)
    voiced = to_video_frames(active, num_frames, fps) >= 0.5
    return Prosody(fps=float(fps), loudness=loudness, pitch=pitch, voiced=voiced)


def loudness_curve(features: FrameFeatures, active: np.ndarray) -> np.ndarray:
    """Per analysis frame loudness 0..1: level in dB relative to the clip's speech peak."""
    energy = features.energy_db
    speech = energy[active] if active.any() else energy
    peak = max(float(np.percentile(speech, 98)), MIN_PEAK_DB)
    return np.clip((energy - (peak - LOUDNESS_RANGE_DB)) / LOUDNESS_RANGE_DB, 0.0, 1.0).astype(np.float32)


def loudness_per_frame(features: FrameFeatures, active: np.ndarray, fps: float, num_frames: int) -> np.ndarray:
    """(F,) float32 loudness 0..1 per video frame (mean power inside the frame, in dB, normalised)."""
    power = 10.0 ** (features.energy_db.astype(np.float64) / 10.0)
    frame_db = 10.0 * np.log10(to_video_frames(power, num_frames, fps) + 1e-12)
    speech = features.energy_db[active] if active.any() else features.energy_db
    peak = max(float(np.percentile(speech, 98)), MIN_PEAK_DB)
    return np.clip((frame_db - (peak - LOUDNESS_RANGE_DB)) / LOUDNESS_RANGE_DB, 0.0, 1.0).astype(np.float32)


def yin_pitch(samples: np.ndarray, num_analysis: int, mask: np.ndarray | None = None) -> np.ndarray:
    """YIN fundamental frequency per 10 ms analysis frame.

    Args:
        samples: (N,) float32 mono at 16 kHz.
        num_analysis: number of analysis frames K (frame k centred at k * 10 ms).
        mask: (K,) bool, frames worth analysing (others get 0); all frames when None.

    Returns:
        (K,) float32 Hz, 0 where no clear periodicity.
    """
    span = YIN_WINDOW + _TAU_MAX
    f0 = np.zeros(num_analysis, np.float32)
    todo = np.arange(num_analysis) if mask is None else np.flatnonzero(mask[:num_analysis])
    if todo.size == 0 or len(samples) < 64:
        return f0
    # keep 50 Hz..1 kHz (the fundamental and low harmonics, not formants or rumble), then 8 kHz
    filtered = _bandpass_decimated(samples)
    padded = np.pad(filtered.astype(np.float32), (span // 2, span + _YIN_HOP))
    taus = np.arange(_TAU_MAX + 1)
    for block in range(0, todo.size, _BLOCK):
        frame_ids = todo[block : block + _BLOCK]
        idx = frame_ids[:, None] * _YIN_HOP + np.arange(span)[None, :]
        frames = padded[idx].astype(np.float64)  # (B, span)
        frames -= frames.mean(axis=1, keepdims=True)
        # difference d(tau) = E(0) + E(tau) - 2 r(tau), r by FFT cross-correlation
        spec_full = np.fft.rfft(frames, n=_YIN_FFT, axis=1)
        spec_head = np.fft.rfft(frames[:, :YIN_WINDOW], n=_YIN_FFT, axis=1)
        corr = np.fft.irfft(np.conj(spec_head) * spec_full, n=_YIN_FFT, axis=1)[:, : _TAU_MAX + 1]
        csum = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=1)], axis=1)
        energy_tau = csum[:, taus + YIN_WINDOW] - csum[:, taus]  # (B, T+1)
        diff = np.maximum(energy_tau[:, :1] + energy_tau - 2.0 * corr, 0.0)
        # cumulative mean normalised difference
        running = np.cumsum(diff[:, 1:], axis=1)
        cmnd = np.ones_like(diff)
        cmnd[:, 1:] = diff[:, 1:] * taus[1:] / np.maximum(running, 1e-12)
        f0[frame_ids] = _pick_period(cmnd)
    return f0


def _bandpass_decimated(samples: np.ndarray, chunk_seconds: float = 30.0, margin_seconds: float = 1.0) -> np.ndarray:
    """50 Hz..1 kHz zero-phase band-pass, then every _DECIMATE-th sample (8 kHz).

    The gain is a 4th-order Butterworth band-pass run forwards and backwards (scipy's
    `sosfiltfilt(butter(4, (50, 1000), "bandpass", fs=16000))`), applied in the frequency domain:
    importing scipy.signal alone costs over a second. Filtered in chunks with a margin on both
    sides (zeros beyond the clip; far longer than the filter's ring-down), so memory stays bounded
    for long clips and the result does not depend on where the chunks fall.
    """
    chunk = int(chunk_seconds * SAMPLE_RATE) // _DECIMATE * _DECIMATE  # chunk starts stay on the 8 kHz grid
    margin = int(margin_seconds * SAMPLE_RATE) // _DECIMATE * _DECIMATE
    size = 1 << int(np.ceil(np.log2(chunk + 2 * margin)))  # FFT length, a power of two
    gain = _bandpass_gain(size)
    out = np.empty((len(samples) + _DECIMATE - 1) // _DECIMATE, np.float32)
    for start in range(0, len(samples), chunk):
        lo, hi = max(0, start - margin), min(len(samples), start + chunk + margin)
        spectrum = np.fft.rfft(samples[lo:hi].astype(np.float64), size)  # zero-padded: no wrap-around
        piece = np.fft.irfft(spectrum * gain, size)
        kept = piece[start - lo : start - lo + min(chunk, len(samples) - start)][::_DECIMATE]
        out[start // _DECIMATE : start // _DECIMATE + len(kept)] = kept
    return out


def _bandpass_gain(size: int, order: int = 4, band: tuple[float, float] = (50.0, 1000.0)) -> np.ndarray:
    """(size // 2 + 1,) zero-phase gain |H|^2 of a digital Butterworth band-pass (bilinear transform).

    With the band edges pre-warped (w = 2 fs tan(pi f / fs)), the digital filter's magnitude is the
    analog prototype's: |H|^2 = 1 / (1 + x^(2 order)), x = (w^2 - w1 w2) / (w (w2 - w1)); forwards
    and backwards filtering applies it twice, i.e. |H|^2 is the gain.
    """
    fs = float(SAMPLE_RATE)
    freqs = np.fft.rfftfreq(size, 1.0 / fs)
    w = 2.0 * fs * np.tan(np.pi * np.minimum(freqs, 0.4999 * fs) / fs)
    w1, w2 = (2.0 * fs * np.tan(np.pi * f / fs) for f in band)
    x = (w**2 - w1 * w2) / np.maximum(w * (w2 - w1), 1e-12)
    return 1.0 / (1.0 + x ** (2 * order))


def _pick_period(cmnd: np.ndarray) -> np.ndarray:
    """First dip below YIN_THRESHOLD (else the global minimum), refined parabolically, as Hz."""
    search = cmnd[:, _TAU_MIN : _TAU_MAX + 1]  # (B, T')
    below = search < YIN_THRESHOLD
    has_dip = below.any(axis=1)
    first = np.where(has_dip, below.argmax(axis=1), search.argmin(axis=1))
    # the local minimum that follows the first crossing lies before 1.5x that lag
    lag = np.arange(search.shape[1])[None, :]
    first_tau = first[:, None] + _TAU_MIN
    window = (lag >= first[:, None]) & (lag + _TAU_MIN <= first_tau * 1.5)
    best = np.where(window, search, np.inf).argmin(axis=1)
    rows = np.arange(len(search))
    value = search[rows, best]
    left = search[rows, np.maximum(best - 1, 0)]
    right = search[rows, np.minimum(best + 1, search.shape[1] - 1)]
    denom = left - 2 * value + right
    shift = np.where(np.abs(denom) > 1e-12, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    tau = best + _TAU_MIN + np.clip(shift, -1, 1)
    f0 = YIN_RATE / tau
    # a minimum on the edge of the lag range is no period inside the range
    periodic = (value < YIN_MAX_APERIODICITY) & (best > 0) & (best < search.shape[1] - 1)
    return np.where(periodic, f0, 0.0).astype(np.float32)


def _pool_pitch(f0: np.ndarray, fps: float, num_frames: int) -> np.ndarray:
    """Median of the voiced analysis frames inside each video frame (0 if fewer than half voiced)."""
    voiced_fraction = to_video_frames(f0 > 0, num_frames, fps)
    rate = SAMPLE_RATE / HOP
    edges = np.clip(np.round(np.arange(num_frames + 1) / fps * rate).astype(np.int64), 0, len(f0))
    pitch = np.zeros(num_frames, np.float32)
    for i in np.flatnonzero(voiced_fraction >= 0.5):
        lo, hi = edges[i], max(edges[i + 1], edges[i] + 1)
        values = f0[lo:hi]
        values = values[values > 0]
        if values.size:
            pitch[i] = np.median(values)
    return pitch
