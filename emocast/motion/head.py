"""Prosody-driven head motion: small nods on stressed syllables, slow yaw/roll drift, no jitter.

Everything is built from low-pass filtered noise and the loudness envelope, so the head never
moves faster than a person's would (the fastest component, the nod, is smoothed over ~120 ms).
"""

from __future__ import annotations

import numpy as np

from emocast.motion.smoothing import gaussian_smooth, lowpass_noise

NOD_DEG = 3.0  # pitch of a nod on a strongly stressed syllable at head_motion = 1
PITCH_DRIFT_DEG = 2.0  # slow up/down drift (std)
YAW_DRIFT_DEG = 4.0  # slow left/right drift (std)
ROLL_DRIFT_DEG = 2.0  # slow tilt drift (std)
SHIFT_IOD = 0.03  # slow sideways/vertical drift of the whole head (std, IOD)


def head_motion(loudness: np.ndarray, voiced: np.ndarray, fps: float, amount: float,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Head pose per frame.

    Args:
        loudness: (F,) 0..1 loudness envelope.
        voiced: (F,) bool voice activity.
        fps: frames per second.
        amount: 0..1 overall amount (GenerateOptions.head_motion); 0 gives a still head.
        rng: seeded generator.

    Returns:
        pose (F, 3) radians (pitch, yaw, roll) and shift (F, 2) in IOD units.
    """
    n = len(loudness)
    # draw the noise first, always in the same order, so a seed gives the same motion at any amount
    drift = [lowpass_noise(n, fps, seconds, rng) for seconds in (1.6, 2.2, 2.6, 2.0, 2.4)]
    if amount <= 0.0 or n == 0:
        return np.zeros((n, 3), np.float32), np.zeros((n, 2), np.float32)
    loud = gaussian_smooth(np.asarray(loudness, np.float64) * np.asarray(voiced, np.float64), 0.04 * fps)
    # stress = rises of the loudness envelope; a nod is a brief chin-down movement after each rise
    rise = np.maximum(np.diff(loud, prepend=loud[:1]), 0.0) * fps  # per second
    stress = gaussian_smooth(rise, 0.12 * fps)
    stress = stress / (np.percentile(stress, 98) + 1e-6) if stress.max() > 0 else stress
    nod = np.clip(stress, 0.0, 1.5)
    talking = gaussian_smooth(loud, 0.5 * fps)  # lively speech -> a slightly raised, moving head
    pitch = np.radians(NOD_DEG * nod + PITCH_DRIFT_DEG * drift[0] - 1.0 * talking)
    yaw = np.radians(YAW_DRIFT_DEG * drift[1] * (0.6 + 0.4 * talking))
    roll = np.radians(ROLL_DRIFT_DEG * drift[2])
    pose = amount * np.stack([pitch, yaw, roll], axis=1)
    shift = amount * SHIFT_IOD * np.stack([drift[3], 0.5 * drift[4]], axis=1)
    return pose.astype(np.float32), shift.astype(np.float32)
