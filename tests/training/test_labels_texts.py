"""Source / label parsing from file names and the emotive text descriptions."""

from __future__ import annotations

import random

import pytest

from emocast.emotion.analyze import analyze_prompt
from emocast.emotion.plan import EMOTIONS
from training.labels import parse_video_path
from training.texts import describe_emotion


def test_mead_nested_and_flat_names():
    nested = parse_video_path("/d/M003/video/front/angry/level_3/001.mp4", "/d")
    assert (nested.clip_id, nested.identity, nested.source, nested.emotion, nested.intensity, nested.view) == (
        "M003_front_angry_level_3_001", "M003", "mead", "angry", 1.0, "front")
    flat = parse_video_path("/d/x/W009_sad_level_1_012.mp4", "/d")
    assert (flat.identity, flat.emotion, flat.intensity) == ("W009", "sad", pytest.approx(1 / 3))
    assert parse_video_path("/d/M003/video/front/neutral/level_1/001.mp4", "/d").intensity == 0.0


def test_hdtf_and_wild_have_no_labels():
    hdtf = parse_video_path("/d/WDA_BarackObama_000.mp4", "/d")
    assert (hdtf.source, hdtf.identity, hdtf.emotion) == ("hdtf", "WDA_BarackObama", None)
    wild = parse_video_path("/d/people/ann/take2.mp4", "/d")
    assert (wild.source, wild.identity, wild.emotion) == ("wild", "ann", None)
    with pytest.raises(ValueError):
        parse_video_path("/d/a.mp4", "/d", source="youtube")


@pytest.mark.parametrize("emotion", [e for e in EMOTIONS if e != "neutral"])
def test_descriptions_read_back_as_their_emotion(emotion):
    texts = [t for seed in range(5) for t in describe_emotion(emotion, 0.7, random.Random(seed), count=4)]
    assert all(isinstance(t, str) and t for t in texts)
    read = [analyze_prompt(t).emotion for t in texts]
    assert sum(r == emotion for r in read) / len(read) >= 0.7, list(zip(texts, read))


def test_intensity_changes_the_wording():
    weak = set(describe_emotion("angry", 0.2, random.Random(0), count=6))
    strong = set(describe_emotion("angry", 1.0, random.Random(0), count=6))
    assert weak != strong
    assert describe_emotion("happy", 0.5, random.Random(1)) == describe_emotion("happy", 0.5, random.Random(1))
