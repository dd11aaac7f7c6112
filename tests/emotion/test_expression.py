"""expression_track: smooth timeline interpolation and voice modulation."""

import time

import numpy as np

from emocast.audio.track import Prosody
from emocast.emotion.analyze import analyze_prompt
from emocast.emotion.expression import expression_track
from emocast.emotion.plan import AU_NAMES


def _prosody(num_frames: int, fps: float = 25.0, seed: int = 0) -> Prosody:
    rng = np.random.default_rng(seed)
    t = np.arange(num_frames) / fps
    loud = (0.5 + 0.2 * np.sin(2 * np.pi * 3 * t) + 0.05 * rng.standard_normal(num_frames)).clip(0, 1)
    return Prosody(fps, loud.astype(np.float32), np.full(num_frames, 180.0, np.float32), np.ones(num_frames, bool))


def test_strength_zero_is_exactly_the_plan():
    plan = analyze_prompt("angry")
    track = expression_track(plan, _prosody(50), voice_strength=0.0)
    assert track.values.shape == (50, len(AU_NAMES)) and track.values.dtype == np.float32
    for au, v in plan.aus.items():
        np.testing.assert_allclose(track.au(au), v, atol=1e-6)
    np.testing.assert_allclose(track.intensity, plan.intensity, atol=1e-6)
    assert track.emotions == ["angry"] * 50


def test_timeline_is_interpolated_smoothly():
    plan = analyze_prompt("at first happy, then sad")
    track = expression_track(plan, _prosody(200), voice_strength=0.0)
    smile, brow = track.au("AU12"), track.au("AU1")
    assert smile[0] > 0.2 and smile[-1] < 0.05 and brow[-1] > brow[0]
    steps = np.abs(np.diff(track.values, axis=0)).max()
    assert steps < 0.1  # no jumps between frames
    assert track.emotions[0] == "happy" and track.emotions[-1] == "sad"


def test_loud_passage_raises_intensity_and_pauses_relax():
    fps, n = 25.0, 250
    loud = np.full(n, 0.3, np.float32)
    loud[100:150] = 0.95  # a shouted passage
    voiced = np.ones(n, bool)
    voiced[200:] = False  # a pause at the end
    loud[200:] = 0.0
    prosody = Prosody(fps, loud, np.where(voiced, 160.0, 0.0).astype(np.float32), voiced)
    plan = analyze_prompt("happy")
    track = expression_track(plan, prosody, voice_strength=1.0)
    assert track.intensity[110:140].mean() > track.intensity[20:80].mean() + 0.02
    assert track.intensity[215:].mean() < track.intensity[20:80].mean()
    assert track.intensity.max() <= min(1.0, plan.intensity * 1.3 + 1e-6)
    assert track.intensity.min() >= plan.intensity * 0.7 - 1e-6
    assert track.au("AU12")[110:140].mean() > track.au("AU12")[20:80].mean()
    half = expression_track(plan, prosody, voice_strength=0.5)
    assert np.ptp(half.intensity) < np.ptp(track.intensity)


def test_long_clip_is_cheap():
    plan = analyze_prompt("starts calm, then bursts into tears")
    prosody = _prosody(15000)
    t = time.perf_counter()
    track = expression_track(plan, prosody, voice_strength=0.5)
    assert time.perf_counter() - t < 1.0  # O(F): a 10-minute clip in well under a second
    assert track.values.shape == (15000, len(AU_NAMES)) and len(track.emotions) == 15000
    assert track.values.min() >= 0.0 and track.values.max() <= 1.0


def test_empty_prosody():
    track = expression_track(analyze_prompt("happy"), Prosody(25.0, np.zeros(0, np.float32), np.zeros(0, np.float32), np.zeros(0, bool)))
    assert track.values.shape == (0, len(AU_NAMES)) and track.emotions == []
