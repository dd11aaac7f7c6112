"""The mesh engine's "animate" stage: expression + speech + prosody -> MotionSequence.

    plan_motion(face, expression, speech, options) -> MotionSequence

1. relax the portrait to its neutral mesh (motion/neutral.py) and build its rig (motion/rig.py);
2. per frame channel values: the expression's AUs, smoothed, plus the speech visemes mapped to
   mouth AUs (jaw -> AU26 + AU25, round / spread shapes, closed lips), combined so a smile stays
   while talking, a speech opening overrides expression-pressed lips, and an expression's open jaw
   (a shout, surprise) is held only in part while the voice is on;
3. head pose from prosody (motion/head.py), blinks and gaze shifts (motion/eyes.py), seeded.
"""

from __future__ import annotations

import numpy as np

from emocast.audio.track import SpeechFeatures
from emocast.emotion.plan import AU_NAMES, ExpressionTrack
from emocast.face.geometry import FaceGeometry
from emocast.motion.eyes import blink_curve, gaze_curve
from emocast.motion.head import head_motion
from emocast.motion.neutral import neutralize
from emocast.motion.rig import FaceFrame, build_basis, rig_channels
from emocast.motion.sequence import MotionSequence
from emocast.motion.smoothing import gaussian_smooth
from emocast.options import GenerateOptions

EXPRESSION_SMOOTH_S = 0.08  # std of the expression smoothing (the plan may step between keyframes)
VISEME_SMOOTH_S = 0.02  # visemes are already coarticulated; only take off frame-level steps
SPEECH_JAW_TO_AU26 = 0.7  # viseme jaw 1.0 -> AU26 0.7 (about 11 mm: a wide /aa/)
SPEECH_JAW_TO_AU25 = 0.6
# While the voice is on, an expression's own jaw drop is held only in part; the rest opens with each
# syllable (a shouting or surprised mouth still closes for /p b m/). In silence it is held whole.
# "Talking" starts TALKING_LEAD_S before the voice (speakers ready the mouth ~0.1-0.2 s ahead of the
# sound) and lasts TALKING_HANG_S after it, so pauses between words count; TALKING_EASE_S smooths the
# switch. (A symmetric 0.3 s blur began closing the mouth ~0.4 s before the first word.)
TALKING_JAW_HOLD = 0.4
TALKING_LEAD_S = 0.16
TALKING_HANG_S = 0.4
TALKING_EASE_S = 0.05
PRESSED_LIP_AUS = ("AU23", "AU24", "AU28")  # released while the jaw opens for speech


def plan_motion(face: FaceGeometry, expression: ExpressionTrack, speech: SpeechFeatures,
                options: GenerateOptions) -> MotionSequence:
    """Plan the per-frame motion of the face in a crop.

    Args:
        face: the face-centred crop (landmarks in its pixels).
        expression: per-frame AU values 0..1 (any frame count; resampled to the speech's).
        speech: visemes and prosody; its num_frames sets the clip length.
        options: uses head_motion (0..1), blink, seed and fps.

    Returns:
        MotionSequence with speech.num_frames frames.
    """
    n = int(speech.num_frames)
    fps = float(options.fps)
    rng = np.random.default_rng(options.seed)

    # 1. the rig on the person's neutral face
    frame = FaceFrame.from_landmarks(face.landmarks)
    source = frame.to_face(face.landmarks)
    neutral, _ = neutralize(source)
    channels = rig_channels(AU_NAMES)
    basis = build_basis(neutral, channels)

    # 2. channel values per frame
    weights = np.zeros((n, len(channels)), np.float64)
    expr = _resample(expression.values, n)
    for j, name in enumerate(expression.au_names):
        if name in channels:
            weights[:, channels.index(name)] = expr[:, j]
    weights = gaussian_smooth(weights, EXPRESSION_SMOOTH_S * fps)
    lips_closed = _add_speech(weights, channels, speech, n, fps)
    weights = np.clip(weights, 0.0, 1.0)

    # 3. head, blinks, gaze (drawn in a fixed order from one generator: deterministic per seed)
    pose, shift = head_motion(_fit(speech.prosody.loudness, n), _fit(speech.prosody.voiced, n).astype(bool),
                              fps, options.head_motion, rng)
    blink, _ = blink_curve(n, fps, rng)
    if not options.blink:
        blink[:] = 0.0
    gaze = gaze_curve(n, fps, 1.0, rng)

    return MotionSequence(
        fps=fps,
        frame=frame,
        source=np.asarray(face.landmarks, np.float32),
        neutral=neutral.astype(np.float32),
        channels=channels,
        basis=basis,
        weights=weights.astype(np.float32),
        lips_closed=lips_closed.astype(np.float32),
        pose=pose,
        translation=(shift * frame.iod).astype(np.float32),
        blink=blink,
        gaze=gaze,
        bounds=tuple(face.image.shape[:2]),
    )


def _add_speech(weights: np.ndarray, channels: tuple[str, ...], speech: SpeechFeatures, n: int,
                fps: float) -> np.ndarray:
    """Add the visemes to the mouth channels in place; returns the lip-closing curve (F,)."""
    v = speech.visemes
    jaw, rnd, spread, closed = (gaussian_smooth(_fit(x, n), VISEME_SMOOTH_S * fps)
                                for x in (v.jaw, v.round, v.spread, v.closed))
    jaw, rnd, spread, closed = (np.clip(x, 0.0, 1.0) for x in (jaw, rnd, spread, closed))
    col = channels.index
    talking = talking_curve(_fit(speech.prosody.voiced, n) > 0.5, fps)
    hold = 1.0 - (1.0 - TALKING_JAW_HOLD) * talking
    expression_jaw = weights[:, col("AU26")].copy()
    held = expression_jaw * hold
    expression_open = np.clip(held, 0.0, 1.0)  # parted lips alone still meet for /p b m/
    # the jaw adds to the expression's held opening (a surprised mouth talking stays open)
    weights[:, col("AU26")] = np.clip(held + (SPEECH_JAW_TO_AU26 * (1 - held) + expression_jaw * (1 - hold)) * jaw, 0.0, 1.0)
    weights[:, col("AU25")] = np.maximum(weights[:, col("AU25")], SPEECH_JAW_TO_AU25 * jaw)
    for name in PRESSED_LIP_AUS:
        weights[:, col(name)] *= 1.0 - np.clip(2.0 * jaw, 0.0, 1.0)
    # lips stretched tight (fear's AU20, the squared mouth of rage and disgust, AU16) open as a box
    tension = np.clip(np.maximum(weights[:, col("AU20")], weights[:, col("AU16")]), 0.0, 1.0)
    weights[:, col("SQUARE")] = weights[:, col("AU26")] * tension
    # a smile already spreads the lips; rounding works against it, so a smile damps it a little
    smile = weights[:, col("AU12")]
    weights[:, col("ROUND")] = rnd * (1.0 - 0.5 * smile)
    weights[:, col("SPREAD")] = spread * (1.0 - 0.7 * smile)
    # lips meet for /p b m/ and silence unless the expression itself opens the mouth
    return closed * (1.0 - expression_open)


def talking_curve(voiced: np.ndarray, fps: float) -> np.ndarray:
    """(F,) 0..1: 1 from TALKING_LEAD_S before each voiced frame to TALKING_HANG_S after it, eased.

    Args:
        voiced: (F,) bool voice activity per video frame.
        fps: frames per second.
    """
    voiced = np.asarray(voiced, bool)
    n = len(voiced)
    lead, hang = int(round(TALKING_LEAD_S * fps)), int(round(TALKING_HANG_S * fps))
    count = np.concatenate([[0], np.cumsum(voiced)])
    t = np.arange(n)
    # voiced frames in [t - hang, t + lead]
    near = count[np.minimum(t + lead + 1, n)] - count[np.maximum(t - hang, 0)]
    return np.clip(gaussian_smooth((near > 0).astype(np.float64), TALKING_EASE_S * fps), 0.0, 1.0)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    """(n,) float64: x cut or padded with its last value."""
    x = np.asarray(x, np.float64).reshape(-1)
    if len(x) >= n:
        return x[:n]
    fill = x[-1] if len(x) else 0.0
    return np.concatenate([x, np.full(n - len(x), fill)])


def _resample(values: np.ndarray, n: int) -> np.ndarray:
    """(n, C) linear resampling of an (F, C) track onto n frames (same clip length)."""
    values = np.asarray(values, np.float64)
    if len(values) == n:
        return values
    if len(values) == 0:
        return np.zeros((n, values.shape[1] if values.ndim == 2 else 0))
    src = np.linspace(0.0, 1.0, len(values))
    dst = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(dst, src, values[:, c]) for c in range(values.shape[1])], axis=1)
