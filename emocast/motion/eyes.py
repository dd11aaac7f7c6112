"""Blinks at natural intervals and small gaze shifts, seeded."""

from __future__ import annotations

import numpy as np

from emocast.motion.smoothing import gaussian_smooth

BLINK_GAP_S = (2.0, 6.0)  # blinks come every 2-6 s
BLINK_MEAN_EXTRA_S = 1.6  # mean of the exponential part of the gap (Poisson-like timing)
BLINK_DURATION_S = (0.15, 0.25)  # closing + opening
GAZE_HOLD_S = (1.2, 4.0)  # how long the eyes rest on one spot
GAZE_RANGE_IOD = (0.035, 0.015)  # horizontal, vertical iris offset (IOD) at most


def blink_curve(num_frames: int, fps: float, rng: np.random.Generator) -> tuple[np.ndarray, list[float]]:
    """Eyelid closure per frame (0 open .. 1 closed) and the blink start times in seconds.

    Gaps are 2 s plus an exponential part (capped at 6 s); a blink closes fast (40% of its time)
    and opens slower, with smooth ends.
    """
    duration_total = num_frames / fps
    curve = np.zeros(num_frames, np.float64)
    starts: list[float] = []
    t = rng.uniform(0.6, 2.5)
    while t < duration_total:
        length = rng.uniform(*BLINK_DURATION_S)
        starts.append(float(t))
        close_s = 0.4 * length
        frames = np.arange(int(np.floor(t * fps)), int(np.ceil((t + length) * fps)) + 1)
        for f in frames[(frames >= 0) & (frames < num_frames)]:
            x = f / fps - t
            if 0.0 <= x <= close_s:
                value = 0.5 - 0.5 * np.cos(np.pi * x / close_s)
            elif close_s < x <= length:
                value = 0.5 + 0.5 * np.cos(np.pi * (x - close_s) / (length - close_s))
            else:
                value = 0.0
            curve[f] = max(curve[f], value)
        gap = min(BLINK_GAP_S[0] + rng.exponential(BLINK_MEAN_EXTRA_S), BLINK_GAP_S[1])
        t += max(gap, length + 0.3)
    return curve.astype(np.float32), starts


def gaze_curve(num_frames: int, fps: float, amount: float, rng: np.random.Generator) -> np.ndarray:
    """(F, 2) iris offset in IOD units: rests near the camera, with occasional small shifts."""
    gaze = np.zeros((num_frames, 2), np.float64)
    t = 0.0
    target = np.zeros(2)
    while t * fps < num_frames:
        hold = rng.uniform(*GAZE_HOLD_S)
        a, b = int(t * fps), int(min((t + hold) * fps, num_frames))
        gaze[a:b] = target
        # most of the time look back at the camera, sometimes glance a little away
        target = np.zeros(2) if rng.random() < 0.5 else rng.uniform(-1, 1, 2) * np.array(GAZE_RANGE_IOD)
        t += hold
    return (amount * gaussian_smooth(gaze, 0.05 * fps)).astype(np.float32)  # ~50 ms saccades
