"""Phone recognition: the helper process, determinism, and falling back when the helper cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emocast.audio import phonemes as P
from emocast.audio.features import frame_features
from emocast.audio.load import load_audio
from emocast.audio.vad import voice_activity

SPEECH = Path(__file__).resolve().parents[2] / "assets" / "speech" / "jfk_11s.flac"


@pytest.fixture(scope="module")
def long_speech():
    """~33 s of real speech (JFK, looped): enough for the helper process."""
    samples = np.tile(load_audio(SPEECH).samples, 3)
    features = frame_features(samples)
    active = voice_activity(features)
    assert active.sum() * 0.01 >= P.PARALLEL_MIN_SECONDS
    return samples, active, features.energy_db


def _labels(phones, seconds: float) -> np.ndarray:
    """Phone label per 10 ms."""
    out = np.full(int(seconds * 100) + 1, "", object)
    for start, end, phone in phones:
        out[int(round(start * 100)) : int(round(end * 100))] = phone
    return out


@pytest.fixture(scope="module")
def helper_phones(long_speech):
    job = P.PhoneJob(*long_speech)
    assert job._helper is not None and 0 < job.split < len(job.pieces)
    return job.result()


def test_helper_phones_are_the_same_every_time_and_match_one_process(long_speech, helper_phones):
    samples, active, energy = long_speech
    first = helper_phones
    assert P.PhoneJob(samples, active, energy).result() == first  # same clip, same phones (decoder reset)
    single = P.recognize_phones(samples, active, energy, workers=1)
    a, b = _labels(first, len(samples) / 16000), _labels(single, len(samples) / 16000)
    spoken = (a != "") | (b != "")
    assert np.mean(a[spoken] == b[spoken]) > 0.85  # only the decoder's history differs
    assert all(x[1] <= y[0] + 1e-9 for x, y in zip(first, first[1:]))  # sorted, no overlaps


def test_a_helper_that_cannot_start_leaves_the_work_here(long_speech, helper_phones, monkeypatch):
    samples, active, energy = long_speech
    expected = helper_phones
    monkeypatch.setattr(P.sys, "executable", "/nonexistent/python")
    job = P.PhoneJob(samples, active, energy)
    assert job.result() == expected


def test_short_speech_is_decoded_here(long_speech):
    samples, active, energy = long_speech
    short = slice(0, 16000 * 8)
    job = P.PhoneJob(samples[short], active[:800], energy[:800])
    assert job._helper is None
    assert len(job.result()) > 20


def test_threads_decoding_at_once_get_their_own_phones():
    """The app may generate on several threads; they share the process's one decoder."""
    import threading

    clips = {}
    for name in ("jfk_11s.flac", "hello_en.wav"):
        samples = load_audio(SPEECH.parent / name).samples
        features = frame_features(samples)
        clips[name] = (samples, voice_activity(features), features.energy_db)
    alone = {name: P.recognize_phones(*args, workers=1) for name, args in clips.items()}
    results, errors = [], []

    def decode(name):
        try:
            results.append((name, P.recognize_phones(*clips[name], workers=1)))
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    for _ in range(2):  # two rounds of four threads: without the lock they collide in the first
        threads = [threading.Thread(target=decode, args=(name,)) for name in list(clips) * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert len(results) == 8 and all(phones == alone[name] for name, phones in results)
