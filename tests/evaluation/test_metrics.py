"""Metric sanity on real data: a real talking head, real portraits (see emocast.evaluation.sanity)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from emocast.evaluation import sanity

VIDEO = sanity.find_real_video()
needs_video = pytest.mark.skipif(VIDEO is None, reason="real talking-head fixture not found")


def _rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def test_classifier_probabilities_and_smile():
    from emocast.evaluation.emotion_classifier import FER_LABELS, classify_image

    smiling = classify_image(_rgb(sanity.SMILING))
    assert list(smiling) == list(FER_LABELS)
    assert sum(smiling.values()) == pytest.approx(1.0, abs=1e-4)
    assert max(smiling, key=smiling.get) == "happy" and smiling["happy"] > 0.5
    neutral = classify_image(_rgb(sanity.NEUTRAL))
    assert neutral["happy"] < 0.5 and max(neutral, key=neutral.get) != "happy"


def test_classifier_needs_a_face():
    from emocast.errors import EmocastError
    from emocast.evaluation.emotion_classifier import classify_image

    with pytest.raises(EmocastError, match="no face"):
        classify_image(np.full((128, 128, 3), 128, np.uint8))


def test_label_mapping():
    from emocast.evaluation.emotion_classifier import to_classifier_label

    assert to_classifier_label("surprised") == "surprise"
    assert to_classifier_label("Disgusted") == "disgust"
    assert to_classifier_label("joy") == "happy"
    assert to_classifier_label("contempt") is None


@needs_video
def test_lip_sync_ranks_real_above_delayed_above_frozen(tmp_path):
    rows = {r["name"]: r for r in sanity.lip_sync_checks(VIDEO, tmp_path)}
    real, late, frozen, shift = (rows[k]["score"] for k in list(rows)[:4])
    assert real > late > frozen
    assert abs(shift - sanity.SHIFT_FRAMES) <= 2  # a known delay moves the measured offset


def test_lag_recovered_on_synthetic_speech_mouth():
    """Mouth opening that follows the loudness envelope 2 frames late is measured at lag -2."""
    from emocast.evaluation.lipsync import SAMPLE_RATE, lip_sync, loudness_envelope

    rng = np.random.default_rng(0)
    fps, seconds = 25, 8
    syllables = np.repeat(rng.random(seconds * 5) > 0.35, SAMPLE_RATE // 5).astype(np.float32)
    samples = syllables * rng.normal(0, 0.2, syllables.size).astype(np.float32)
    envelope = loudness_envelope(samples, fps, fps * seconds)
    mouth = np.clip((envelope - envelope.min()) / np.ptp(envelope), 0, 1) * 0.4
    mouth = np.concatenate([np.zeros(2), mouth[:-2]])  # the mouth moves 2 frames after the sound
    result = lip_sync(mouth, samples, fps, bilabials=False)
    assert result.best_lag == -2 and result.peak > 0.8


@needs_video
def test_identity_same_and_different_person():
    same, other = sanity.identity_checks(VIDEO)
    assert same["score"] < 0.6 < other["score"]


@needs_video
def test_jitter_rises_with_shake():
    real, shook = sanity.stability_checks(VIDEO, num_frames=30)
    assert shook["score"] > real["score"]


def test_fid_unavailable_without_weights(monkeypatch):
    from emocast.evaluation.quality import INCEPTION_ENV, fid

    monkeypatch.delenv(INCEPTION_ENV, raising=False)
    result = fid([np.zeros((8, 8, 3), np.uint8)] * 4, [np.zeros((8, 8, 3), np.uint8)] * 4)
    assert result["value"] is None and INCEPTION_ENV in result["reason"]


def test_frechet_distance_math():
    from emocast.evaluation.quality import feature_statistics, frechet_distance

    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 4))
    assert frechet_distance(*feature_statistics(a), *feature_statistics(a)) == pytest.approx(0, abs=1e-6)
    # 1-D Gaussians N(0, 1) and N(1, 4): 1 + 1 + 4 - 2 * 2 = 2
    value = frechet_distance(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1))
    assert value == pytest.approx(2.0)


def test_emotion_fan_needs_weights(monkeypatch):
    from emocast.errors import EmocastError
    from emocast.evaluation.emotion_classifier import get_classifier

    monkeypatch.delenv("EMOCAST_EMOTION_FAN_WEIGHTS", raising=False)
    get_classifier.cache_clear()
    with pytest.raises(EmocastError, match="EMOCAST_EMOTION_FAN_WEIGHTS"):
        get_classifier("emotion-fan")
