"""Voice activity detection: energy against an adaptive noise floor, checked by spectral shape.

A 10 ms frame is speech when its level clears a threshold that follows the local noise floor
(minimum statistics over a few seconds) and either its spectrum is not noise-like (flatness) or it
is clearly louder than the threshold. Runs are then cleaned up: tiny blips go, short gaps inside
words are filled, and a hangover keeps the voice on briefly after each run (word endings are quiet).
"""

from __future__ import annotations

import numpy as np

from emocast.audio.features import HOP_SECONDS, FrameFeatures

ABS_MIN_DB = -60.0  # dBFS; quieter frames are never speech (digital silence, hiss)
MIN_SNR_DB = 6.0  # a frame must be this far above the local noise floor
MAX_BELOW_PEAK_DB = 40.0  # ...and no more than this below the clip's speech level
NOISE_FLATNESS = 0.5  # flatter spectra (white-noise-like) need extra level to count
NOISE_EXTRA_DB = 10.0  # the extra level a noise-like frame needs
FLOOR_WINDOW_S = 3.0  # minimum-statistics window of the adaptive floor
MIN_RUN_S = 0.06  # drop speech blips shorter than this
MAX_GAP_S = 0.15  # fill pauses shorter than this (stop closures inside words)
HANGOVER_S = 0.10  # keep voice on this long after each run
ONSET_S = 0.02  # ...and start it this much earlier


def voice_activity(features: FrameFeatures) -> np.ndarray:
    """Speech / non-speech per 10 ms analysis frame.

    Args:
        features: FrameFeatures of the clip.

    Returns:
        (K,) bool, True where someone speaks.
    """
    from scipy.ndimage import minimum_filter1d, uniform_filter1d  # here: the phone helper imports runs() only

    energy = features.energy_db.astype(np.float64)
    if energy.max() < ABS_MIN_DB:
        return np.zeros(len(energy), bool)
    smooth = uniform_filter1d(energy, size=5, mode="nearest")
    floor_window = max(3, int(FLOOR_WINDOW_S / HOP_SECONDS))
    local_floor = minimum_filter1d(smooth, size=floor_window, mode="nearest")
    global_floor = np.percentile(energy, 5)
    floor = np.maximum(local_floor, global_floor)
    loud = energy[energy > ABS_MIN_DB]
    speech_level = np.percentile(loud, 95) if loud.size else ABS_MIN_DB
    threshold = np.maximum.reduce(
        [
            np.full_like(floor, ABS_MIN_DB),
            floor + np.maximum(MIN_SNR_DB, 0.2 * (speech_level - floor)),
            np.full_like(floor, speech_level - MAX_BELOW_PEAK_DB),
        ]
    )
    noise_like = features.flatness > NOISE_FLATNESS
    active = (energy > threshold) & (~noise_like | (energy > threshold + NOISE_EXTRA_DB))
    return clean_runs(active)


def clean_runs(active: np.ndarray) -> np.ndarray:
    """Fill short gaps, drop short blips, then add onset lead and hangover (all in 10 ms frames)."""
    active = _fill_short(active, value=False, max_len=int(MAX_GAP_S / HOP_SECONDS))
    active = _fill_short(active, value=True, max_len=int(MIN_RUN_S / HOP_SECONDS) - 1)
    out = active.copy()
    starts, stops = runs(active)
    lead, hang = int(ONSET_S / HOP_SECONDS), int(HANGOVER_S / HOP_SECONDS)
    for start, stop in zip(starts, stops):
        out[max(0, start - lead) : min(len(out), stop + hang)] = True
    return out


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and stop (exclusive) indices of the True runs of a bool array."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    change = np.flatnonzero(padded[1:] != padded[:-1])
    return change[0::2], change[1::2]


def _fill_short(mask: np.ndarray, value: bool, max_len: int) -> np.ndarray:
    """Flip interior runs equal to `value` that are at most max_len long."""
    out = mask.copy()
    target = mask == value
    starts, stops = runs(target)
    for start, stop in zip(starts, stops):
        interior = start > 0 and stop < len(mask)
        if stop - start <= max_len and (interior or value):
            out[start:stop] = not value
    return out
