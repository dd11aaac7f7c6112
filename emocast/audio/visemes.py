"""Phones -> visemes -> per-frame mouth articulation (jaw, round, spread, closed) with coarticulation.

Each phone has a target articulation and a Preston-Blair-like mouth class (the classes Rhubarb Lip
Sync animates: closed MBP, rest, AI open, E, O rounded, U/W puckered, FV, L, plus TH, SH and
the small "etc" consonant mouth). Targets are blended with a Cohen-Massaro style dominance model:
every phone pulls each parameter towards its target with a weight that is constant over the phone
and decays outside it, slower before the phone (anticipation, the lips move ~70 ms early) than after
it (carry-over). Consonants whose articulation does not involve the lips barely pull on rounding and
spread, so "soon" keeps its rounded /s/ and "keys" its spread /k/. Diphthongs get two targets.
After pooling to the video rate the jaw is scaled by local loudness, the curves are lightly
smoothed, and /p b m/ get a full closure of at least MIN_CLOSURE_FRAMES frames.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emocast.audio.features import HOP_SECONDS, to_video_frames
from emocast.audio.phonemes import Phone, is_silence
from emocast.audio.track import VisemeTrack

# target = (class, jaw, round, spread, closed), all 0..1
Target = tuple[str, float, float, float, float]
REST: Target = ("rest", 0.0, 0.05, 0.0, 1.0)
PHONE_TARGETS: dict[str, Target | tuple[Target, Target]] = {
    # vowels
    "AA": ("AI", 1.0, 0.0, 0.15, 0.0),
    "AE": ("AI", 0.8, 0.0, 0.5, 0.0),
    "AH": ("AI", 0.65, 0.05, 0.15, 0.0),
    "AO": ("O", 0.7, 0.6, 0.0, 0.0),
    "ER": ("O", 0.35, 0.45, 0.0, 0.0),
    "EH": ("E", 0.5, 0.0, 0.6, 0.0),
    "IH": ("E", 0.35, 0.0, 0.6, 0.0),
    "IY": ("E", 0.2, 0.0, 1.0, 0.0),
    "UH": ("U", 0.35, 0.6, 0.0, 0.0),
    "UW": ("U", 0.2, 1.0, 0.0, 0.0),
    # diphthongs: (first half, second half)
    "AW": (("AI", 0.9, 0.1, 0.1, 0.0), ("U", 0.35, 0.85, 0.0, 0.0)),
    "AY": (("AI", 0.9, 0.0, 0.2, 0.0), ("E", 0.35, 0.0, 0.75, 0.0)),
    "EY": (("E", 0.5, 0.0, 0.6, 0.0), ("E", 0.3, 0.0, 0.85, 0.0)),
    "OW": (("O", 0.6, 0.7, 0.0, 0.0), ("U", 0.3, 0.95, 0.0, 0.0)),
    "OY": (("O", 0.6, 0.7, 0.0, 0.0), ("E", 0.3, 0.0, 0.7, 0.0)),
    # consonants
    "P": ("MBP", 0.05, 0.1, 0.0, 1.0),
    "B": ("MBP", 0.05, 0.1, 0.0, 1.0),
    "M": ("MBP", 0.05, 0.1, 0.0, 1.0),
    "F": ("FV", 0.12, 0.0, 0.25, 0.6),
    "V": ("FV", 0.12, 0.0, 0.25, 0.6),
    "W": ("U", 0.12, 1.0, 0.0, 0.0),
    "L": ("L", 0.4, 0.0, 0.25, 0.0),
    "R": ("U", 0.25, 0.55, 0.0, 0.0),
    "TH": ("TH", 0.25, 0.0, 0.3, 0.0),
    "DH": ("TH", 0.25, 0.0, 0.3, 0.0),
    "S": ("etc", 0.12, 0.0, 0.55, 0.0),
    "Z": ("etc", 0.12, 0.0, 0.55, 0.0),
    "T": ("etc", 0.25, 0.0, 0.35, 0.0),
    "D": ("etc", 0.25, 0.0, 0.35, 0.0),
    "N": ("etc", 0.25, 0.0, 0.35, 0.0),
    "K": ("etc", 0.3, 0.0, 0.25, 0.0),
    "G": ("etc", 0.3, 0.0, 0.25, 0.0),
    "NG": ("etc", 0.3, 0.0, 0.25, 0.0),
    "Y": ("E", 0.2, 0.0, 0.7, 0.0),
    "SH": ("SH", 0.15, 0.65, 0.0, 0.0),
    "ZH": ("SH", 0.15, 0.65, 0.0, 0.0),
    "CH": ("SH", 0.15, 0.65, 0.0, 0.0),
    "JH": ("SH", 0.15, 0.65, 0.0, 0.0),
    "HH": ("etc", 0.45, 0.0, 0.1, 0.0),
}
# dominance (jaw, round, spread, closed) by how much a sound needs each articulator
DOMINANCE = {
    "vowel": (1.0, 1.0, 1.0, 1.0),
    "MBP": (3.0, 0.3, 0.3, 8.0),
    "FV": (2.0, 0.3, 0.5, 4.0),
    "lips": (0.6, 2.0, 1.0, 1.0),  # W R SH ZH CH JH Y: rounding/spreading is what they are
    "tongue": (0.6, 0.15, 0.15, 1.0),  # T D N S Z K G NG L TH DH: lips follow the vowels
    "HH": (0.1, 0.1, 0.1, 0.5),  # /h/ takes the shape of the next vowel
    "rest": (1.0, 1.0, 1.0, 1.5),
}
_LIP_CONSONANTS = {"W", "R", "SH", "ZH", "CH", "JH", "Y"}
_VOWELS = {"AA", "AE", "AH", "AO", "ER", "EH", "IH", "IY", "UH", "UW", "AW", "AY", "EY", "OW", "OY"}
ANTICIPATION_S = 0.07  # dominance decay before a phone (lips move early)
CARRYOVER_S = 0.035  # dominance decay after a phone
REACH_S = 0.35  # beyond this distance a phone has no influence
BACKGROUND_WEIGHT = 0.02  # rest pulls weakly everywhere, so gaps between phones close the mouth
MIN_CLOSURE_SECONDS = 0.08  # /p b m/ closures last at least this long...
MIN_CLOSURE_FRAMES = 2  # ...and at least this many video frames where fps allows it
CLOSED_JAW = 0.05  # jaw opening allowed while the lips are pressed


def dominance_class(phone: str) -> str:
    """Which DOMINANCE row a phone uses."""
    if is_silence(phone):
        return "rest"
    if phone in _VOWELS:
        return "vowel"
    if phone in ("P", "B", "M"):
        return "MBP"
    if phone in ("F", "V"):
        return "FV"
    if phone in _LIP_CONSONANTS:
        return "lips"
    if phone == "HH":
        return "HH"
    return "tongue"


def expand_targets(phones: Sequence[Phone]) -> list[tuple[float, float, Target, str]]:
    """(start, end, target, dominance class) per phone; diphthongs become two halves."""
    out = []
    for start, end, phone in phones:
        phone = phone.rstrip("012")
        kind = dominance_class(phone)
        target = REST if kind == "rest" else PHONE_TARGETS.get(phone, ("etc", 0.3, 0.0, 0.2, 0.0))
        if isinstance(target[0], tuple):
            mid = 0.5 * (start + end)
            out.append((start, mid, target[0], kind))
            out.append((mid, end, target[1], kind))
        else:
            out.append((start, end, target, kind))
    return out


def blend_phones(phones: Sequence[Phone], num_analysis: int) -> tuple[np.ndarray, list[str]]:
    """Dominance-weighted articulation on the 10 ms analysis grid.

    Args:
        phones: [(start s, end s, phone)].
        num_analysis: number of 10 ms frames K.

    Returns:
        params (K, 4) float32 columns jaw, round, spread, closed; and the class label per frame.
    """
    rate = 1.0 / HOP_SECONDS
    times = np.arange(num_analysis) * HOP_SECONDS
    weights = np.full((num_analysis, 4), BACKGROUND_WEIGHT)
    weighted = weights * np.asarray(REST[1:])
    best = np.zeros(num_analysis)
    labels = ["rest"] * num_analysis
    for start, end, target, kind in expand_targets(phones):
        lo = max(0, int((start - REACH_S) * rate))
        hi = min(num_analysis, int((end + REACH_S) * rate) + 1)
        if hi <= lo:
            continue
        t = times[lo:hi]
        before = np.clip(start - t, 0.0, None) / ANTICIPATION_S
        after = np.clip(t - end, 0.0, None) / CARRYOVER_S
        shape = np.exp(-(before + after))  # 1 inside the phone
        dom = shape[:, None] * np.asarray(DOMINANCE[kind])[None, :]  # (T, 4)
        weights[lo:hi] += dom
        weighted[lo:hi] += dom * np.asarray(target[1:])[None, :]
        # label: the phone whose (anticipated) span covers the frame most strongly
        label_shape = np.exp(-(np.clip(start - 0.4 * ANTICIPATION_S - t, 0, None) + np.clip(t - end, 0, None)) / 0.01)
        take = label_shape > best[lo:hi]
        best[lo:hi] = np.where(take, label_shape, best[lo:hi])
        for i in np.flatnonzero(take):
            labels[lo + i] = target[0]
    return (weighted / weights).astype(np.float32), labels


def phones_to_visemes(
    phones: Sequence[Phone], loudness: np.ndarray, fps: float, num_frames: int, num_analysis: int
) -> VisemeTrack:
    """VisemeTrack at the video rate from recognised phones.

    Args:
        phones: [(start s, end s, phone)] in ARPAbet.
        loudness: (K,) 0..1 loudness per 10 ms frame (opens loud syllables wider).
        fps: video frames per second.
        num_frames: video frames F.
        num_analysis: 10 ms frames K.
    """
    params, labels_10ms = blend_phones(phones, num_analysis)
    jaw, rnd, spread, closed = (to_video_frames(params[:, j], num_frames, fps) for j in range(4))
    frame_loudness = to_video_frames(loudness, num_frames, fps)
    jaw = scale_jaw_by_loudness(jaw, frame_loudness, fps)
    centres = np.minimum(((np.arange(num_frames) + 0.5) / fps / HOP_SECONDS).astype(int), num_analysis - 1)
    labels = [labels_10ms[c] for c in centres]
    closures = [(s, e) for s, e, p in phones if p.rstrip("012") in ("P", "B", "M")]
    return finish_track(jaw, rnd, spread, closed, labels, closures, fps, list(phones), "phones")


def scale_jaw_by_loudness(jaw: np.ndarray, loudness: np.ndarray, fps: float) -> np.ndarray:
    """Open loud syllables more: scale by loudness against the clip and against the last ~second."""
    window = max(1, int(round(fps * 1.0)))
    from scipy.ndimage import maximum_filter1d

    local_peak = np.maximum(maximum_filter1d(loudness, size=window, mode="nearest"), 0.3)
    relative = np.clip(loudness / local_peak, 0.0, 1.0)
    scale = 0.35 + 0.65 * np.clip(0.5 * loudness + 0.5 * relative, 0.0, 1.0)
    return np.clip(jaw * scale, 0.0, 1.0)


def smooth(values: np.ndarray, fps: float, seconds: float = 0.04) -> np.ndarray:
    """Zero-phase Gaussian smoothing with a standard deviation of `seconds` (jitter removal)."""
    from scipy.ndimage import gaussian_filter1d

    sigma = seconds * fps
    if sigma < 0.3 or len(values) < 2:
        return values
    return gaussian_filter1d(values.astype(np.float64), sigma, mode="nearest").astype(np.float32)


def closure_frames(closures: Sequence[tuple[float, float]], fps: float, num_frames: int) -> np.ndarray:
    """(F,) bool: frames where the lips must be fully closed for /p b m/."""
    mask = np.zeros(num_frames, bool)
    min_frames = max(1, min(MIN_CLOSURE_FRAMES, int(np.ceil(MIN_CLOSURE_SECONDS * fps))))
    for start, end in closures:
        centre = 0.5 * (start + end) - 0.3 * ANTICIPATION_S  # closures are seen slightly early
        n = max(min_frames, int(round((end - start) * fps)))
        first = int(round(centre * fps - n / 2.0))
        first = min(max(first, 0), max(num_frames - n, 0))
        mask[first : first + n] = True
    return mask


def finish_track(
    jaw: np.ndarray,
    rnd: np.ndarray,
    spread: np.ndarray,
    closed: np.ndarray,
    labels: list[str],
    closures: Sequence[tuple[float, float]],
    fps: float,
    phones: list[Phone],
    method: str,
) -> VisemeTrack:
    """Smooth, enforce closures and clip: the last step shared by both viseme methods."""
    num_frames = len(jaw)
    jaw, rnd, spread, closed = (np.clip(smooth(x, fps), 0.0, 1.0) for x in (jaw, rnd, spread, closed))
    hold = closure_frames(closures, fps, num_frames)
    closed[hold] = 1.0
    jaw[hold] = np.minimum(jaw[hold], CLOSED_JAW)
    spread[hold] = np.minimum(spread[hold], 0.2)
    # lips pressed together and a wide jaw cannot coexist
    jaw = np.minimum(jaw, 1.0 - 0.95 * closed)
    labels = ["MBP" if h else lab for h, lab in zip(hold, labels)]
    return VisemeTrack(
        fps=float(fps),
        jaw=jaw.astype(np.float32),
        round=rnd.astype(np.float32),
        spread=spread.astype(np.float32),
        closed=closed.astype(np.float32),
        labels=labels,
        phones=phones,
        method=method,
    )
