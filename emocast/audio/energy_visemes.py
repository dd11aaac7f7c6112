"""Language-independent fallback: mouth articulation from loudness and spectral shape.

Used for speech the English phone model cannot follow (other languages, singing, noise) or when
phone decoding fails. Loudness opens the jaw; the balance between the F2/F3 band and the F1 band
(high for front vowels like /i e/, low for rounded back vowels like /u o/) drives spread versus
rounding; silence and short dips inside speech (stop closures) close the lips.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, uniform_filter1d

from emocast.audio.features import HOP_SECONDS, FrameFeatures, to_video_frames
from emocast.audio.track import VisemeTrack
from emocast.audio.visemes import finish_track, scale_jaw_by_loudness

LEAD_SECONDS = 0.04  # the mouth shape is shown this much before the sound (anticipation)
DIP_DEPTH_DB = 12.0  # a dip this far below the surrounding speech peak reads as a closure
DIP_CONTEXT_S = 0.12  # "surrounding" = within this many seconds
TILT_GAIN = 0.45  # spread/round per robust standard deviation of spectral tilt


def energy_visemes(
    features: FrameFeatures, active: np.ndarray, loudness: np.ndarray, fps: float, num_frames: int
) -> VisemeTrack:
    """VisemeTrack from loudness and spectral tilt (no phones).

    Args:
        features: FrameFeatures of the clip.
        active: (K,) bool voice activity per 10 ms frame.
        loudness: (K,) 0..1 loudness per 10 ms frame.
        fps: video frames per second.
        num_frames: video frames F.
    """
    activity = uniform_filter1d(active.astype(np.float64), size=5, mode="nearest")
    jaw = np.where(active, 0.9 * np.sqrt(loudness), 0.0)  # scaled by loudness again below
    # spectral tilt: front vowels carry energy at 1.4-3.5 kHz, rounded vowels mostly below 900 Hz
    tilt = features.high_db.astype(np.float64) - features.low_db
    voiced = active & (features.flatness < 0.3)
    if voiced.sum() >= 10:
        centre = np.median(tilt[voiced])
        spread_sd = max(np.subtract(*np.percentile(tilt[voiced], [75, 25])) / 1.35, 1.0)
        z = np.clip((tilt - centre) / spread_sd, -3.0, 3.0)
    else:
        z = np.zeros_like(tilt)
    spread = np.where(voiced, np.clip(TILT_GAIN * z, 0.0, 1.0), 0.0) * activity
    rnd = np.where(voiced, np.clip(-TILT_GAIN * z, 0.0, 1.0), 0.0) * activity
    # closures: silence, and short dips well below the neighbouring speech peak
    context = max(3, int(2 * DIP_CONTEXT_S / HOP_SECONDS) + 1)
    peak = maximum_filter1d(features.energy_db.astype(np.float64), size=context, mode="nearest")
    dip = np.clip((peak - features.energy_db - DIP_DEPTH_DB) / 6.0, 0.0, 1.0)
    closed = np.clip((1.0 - activity) + activity * dip * 0.8, 0.0, 1.0)
    jaw = jaw * (1.0 - 0.7 * dip)

    lead = int(round(LEAD_SECONDS / HOP_SECONDS))
    jaw, rnd, spread, closed = (np.concatenate([x[lead:], np.repeat(x[-1:], lead)]) for x in (jaw, rnd, spread, closed))
    jaw, rnd, spread, closed = (to_video_frames(x, num_frames, fps) for x in (jaw, rnd, spread, closed))
    frame_loudness = to_video_frames(loudness, num_frames, fps)
    jaw = scale_jaw_by_loudness(jaw, frame_loudness, fps)
    labels = [classify(j, r, s, c) for j, r, s, c in zip(jaw, rnd, spread, closed)]
    return finish_track(jaw, rnd, spread, closed, labels, [], fps, [], "energy")


def classify(jaw: float, rnd: float, spread: float, closed: float) -> str:
    """The Preston-Blair-like class nearest to an articulation (for debugging views)."""
    if closed > 0.6:
        return "rest" if jaw < 0.1 else "MBP"
    if rnd > 0.5:
        return "U" if jaw < 0.35 else "O"
    if spread > 0.5:
        return "E"
    if jaw > 0.5:
        return "AI"
    return "etc"
