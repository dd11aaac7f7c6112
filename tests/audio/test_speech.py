"""analyze_speech: voice activity, loudness, pitch, frame counts, and the two lip-sync methods."""

from __future__ import annotations

import numpy as np
import pytest

from emocast.audio.features import frame_features
from emocast.audio.load import load_audio
from emocast.audio.prosody import yin_pitch
from emocast.audio.speech import analyze_speech, implausibility
from emocast.audio.track import SAMPLE_RATE, AudioTrack
from emocast.errors import EmocastError


def closure_runs(closed: np.ndarray, min_frames: int = 2) -> int:
    """Number of runs of fully closed lips lasting at least min_frames, not counting the clip's edges."""
    full = np.concatenate([[False], closed >= 0.99, [False]])
    edges = np.flatnonzero(full[1:] != full[:-1])
    starts, stops = edges[0::2], edges[1::2]
    return sum(1 for a, b in zip(starts, stops) if b - a >= min_frames and a > 0 and b < len(closed))


def test_silence_gives_closed_mouth_and_no_voice():
    speech = analyze_speech(AudioTrack(np.zeros(2 * SAMPLE_RATE, np.float32)), fps=25)
    assert speech.num_frames == 50
    assert not speech.prosody.voiced.any()
    assert not speech.prosody.pitch.any()
    assert np.all(speech.prosody.loudness == 0)
    assert np.all(speech.visemes.closed >= 0.99) and np.all(speech.visemes.jaw <= 0.01)


def test_quiet_noise_is_not_speech():
    noise = np.random.default_rng(0).normal(0, 0.003, 3 * SAMPLE_RATE).astype(np.float32)
    speech = analyze_speech(AudioTrack(noise), fps=25, method="energy")
    assert speech.prosody.voiced.mean() < 0.05


@pytest.mark.parametrize("fps", [1, 12.5, 24, 25, 29.97, 30, 60])
@pytest.mark.parametrize("seconds", [0.01, 1.234])
def test_every_array_has_num_frames(fps, seconds):
    rng = np.random.default_rng(1)
    track = AudioTrack((0.1 * rng.standard_normal(int(seconds * SAMPLE_RATE))).astype(np.float32))
    speech = analyze_speech(track, fps=fps, method="energy")
    assert speech.num_frames == max(1, round(track.duration * fps))
    v, p = speech.visemes, speech.prosody
    for array in (p.loudness, p.pitch, p.voiced, v.jaw, v.round, v.spread, v.closed):
        assert len(array) == speech.num_frames
    assert len(v.labels) == speech.num_frames


def test_phones_mode_frame_count_on_real_speech(speech_wav):
    track = load_audio(speech_wav)
    for fps in (24, 30):
        speech = analyze_speech(track, fps=fps, method="phones")
        assert len(speech.visemes.jaw) == len(speech.prosody.pitch) == speech.num_frames == round(track.duration * fps)


def test_vad_finds_the_inserted_gap(speech_wav):
    samples = load_audio(speech_wav).samples
    gap = np.zeros(SAMPLE_RATE, np.float32)
    track = AudioTrack(np.concatenate([samples, gap, samples]))
    speech = analyze_speech(track, fps=25, method="energy")
    first = len(samples) / SAMPLE_RATE
    t = (np.arange(speech.num_frames) + 0.5) / 25
    voiced = speech.prosody.voiced
    assert not voiced[(t > first + 0.25) & (t < first + 0.85)].any()  # inside the gap (minus hangover)
    assert voiced[t < first].mean() > 0.6 and voiced[t > first + 1.0].mean() > 0.6
    assert np.all(speech.visemes.closed[(t > first + 0.35) & (t < first + 0.75)] > 0.9)


def test_pitch_of_harmonic_tone():
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    tone = sum(np.sin(2 * np.pi * 150.0 * k * t) / k for k in range(1, 8))
    tone = (0.3 * tone / np.abs(tone).max()).astype(np.float32)
    speech = analyze_speech(AudioTrack(tone), fps=25, method="energy")
    pitch = speech.prosody.pitch[5:-5]
    assert np.all(pitch > 0)
    assert np.median(pitch) == pytest.approx(150.0, rel=0.05)
    assert np.all(np.abs(pitch - 150.0) < 7.5)


def test_pitch_follows_a_male_and_a_female_voice():
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    for f0 in (90.0, 240.0):
        tone = sum(np.sin(2 * np.pi * f0 * k * t) * 0.9**k for k in range(1, 10)).astype(np.float32) * 0.05
        f0s = yin_pitch(tone, len(frame_features(tone)))[10:-10]
        assert np.median(f0s) == pytest.approx(f0, rel=0.05)


def test_loudness_follows_level(speech_wav):
    samples = load_audio(speech_wav).samples
    track = AudioTrack(np.concatenate([samples * 0.1, samples]))
    loud = analyze_speech(track, fps=25, method="energy").prosody.loudness
    half = len(loud) // 2
    assert 0.0 <= loud.min() and loud.max() <= 1.0
    assert loud[half:].mean() > loud[:half].mean() + 0.2


def test_bilabials_close_the_lips(make_speech):
    speech = analyze_speech(load_audio(make_speech("bob met my mom")), fps=25, method="phones")
    assert speech.visemes.method == "phones"
    assert closure_runs(speech.visemes.closed) >= 2
    assert speech.visemes.jaw.max() > 0.3  # and it opens between them


def test_rounding_and_spreading_differ(make_speech):
    who = analyze_speech(load_audio(make_speech("who knew you")), fps=25, method="phones").visemes
    see = analyze_speech(load_audio(make_speech("see me")), fps=25, method="phones").visemes
    assert who.round.max() > 0.5 and see.spread.max() > 0.5
    open_who, open_see = who.closed < 0.5, see.closed < 0.5
    assert who.round[open_who].mean() > who.spread[open_who].mean() + 0.2
    assert see.spread[open_see].mean() > see.round[open_see].mean() + 0.2
    assert who.round[open_who].mean() > see.round[open_see].mean() + 0.2


def test_visemes_are_smooth(speech_wav):
    visemes = analyze_speech(load_audio(speech_wav), fps=25, method="phones").visemes
    for curve in (visemes.jaw, visemes.round, visemes.spread):
        jerk = np.abs(np.diff(curve, 2))
        assert np.percentile(jerk, 95) < 0.25
        assert 0.0 <= curve.min() and curve.max() <= 1.0
    # but the mouth does move
    assert visemes.jaw.std() > 0.05


def test_energy_fallback_moves_with_speech(speech_wav):
    samples = load_audio(speech_wav).samples
    track = AudioTrack(np.concatenate([np.zeros(SAMPLE_RATE // 2, np.float32), samples]))
    visemes = analyze_speech(track, fps=25, method="energy").visemes
    assert visemes.method == "energy" and visemes.phones == []
    assert np.all(visemes.closed[:8] > 0.9) and np.all(visemes.jaw[:8] < 0.05)
    assert visemes.jaw[15:].max() > 0.4 and visemes.closed[15:].min() < 0.2
    assert (visemes.round.max() > 0.2) or (visemes.spread.max() > 0.2)


def test_auto_uses_phones_on_english(speech_wav):
    assert analyze_speech(load_audio(speech_wav), fps=25).visemes.method == "phones"


def test_implausible_phones_are_detected():
    active = np.ones(300, bool)  # 3 s of speech
    assert implausibility([(0.0, 3.0, "SIL")], active)
    assert implausibility([(0.0, 0.1, "AA"), (0.1, 3.0, "SIL")], active)
    many = [(i * 0.02, (i + 1) * 0.02, "T") for i in range(150)]
    assert implausibility(many, active)
    normal = [(i * 0.1, (i + 1) * 0.1, "AA" if i % 2 else "T") for i in range(30)]
    assert implausibility(normal, active) is None


def test_bad_method_and_fps():
    track = AudioTrack(np.zeros(1600, np.float32))
    with pytest.raises(EmocastError, match="method"):
        analyze_speech(track, fps=25, method="magic")
    with pytest.raises(EmocastError, match="fps"):
        analyze_speech(track, fps=0)
