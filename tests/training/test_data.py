"""Clips, mixture sampling per phase, emotion-aware pairs, stage-2 windows, config loading."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from emocast.errors import EmocastError
from training.config import load_config
from training.data import ClipDataset, MixtureSampler, load_clips

CONFIGS = Path(__file__).resolve().parents[2] / "training" / "configs"


def test_mixture_follows_the_phase(mini_dataset):
    clips = load_clips([mini_dataset[0]])
    by_id = {i: c for i, c in enumerate(clips)}
    phase3 = MixtureSampler(clips, {"hdtf": 1.0}, seed=0)
    assert {by_id[phase3.key(k)[1]].source for k in range(50)} == {"hdtf"}
    phase1 = MixtureSampler(clips, {"wild": 1.0, "mead": 1.0, "hdtf": 1.0}, seed=0)
    sources = Counter(by_id[phase1.key(k)[1]].source for k in range(600))
    assert all(150 < sources[s] < 250 for s in ("wild", "mead", "hdtf")), sources
    # sample k depends only on (seed, k): a resumed sampler continues the same stream
    resumed = iter(MixtureSampler(clips, {"mead": 1.0}, seed=3, start=5))
    fresh = iter(MixtureSampler(clips, {"mead": 1.0}, seed=3))
    assert [next(fresh) for _ in range(8)][5:] == [next(resumed) for _ in range(3)]
    with pytest.raises(EmocastError):
        MixtureSampler([c for c in clips if c.source == "mead"], {"hdtf": 1.0}, seed=0)


def test_emotion_aware_reference_is_neutral_same_identity(mini_dataset):
    clips = load_clips([mini_dataset[0]])
    index = next(i for i, c in enumerate(clips) if c.id == "M001_front_angry_level_3_001")
    aware = ClipDataset(clips, stage=1, resolution=32, seed=0, emotion_aware=True)
    sample = aware[(0, index)]
    assert sample["reference_clip_id"] == "M001_front_neutral_level_1_001"
    assert sample["pixel_values"].shape == (3, 32, 32) and sample["face_region"].shape == (3, 32, 32)
    assert -1.0 <= float(sample["pixel_values"].min()) and float(sample["pixel_values"].max()) <= 1.0
    plain = ClipDataset(clips, stage=1, resolution=32, seed=0, emotion_aware=False)
    assert plain[(0, index)]["reference_clip_id"] == "M001_front_angry_level_3_001"
    # an identity without a neutral clip falls back to its own clip
    wild = next(i for i, c in enumerate(clips) if c.source == "wild")
    assert aware[(0, wild)]["reference_clip_id"] == clips[wild].id


def test_stage2_window(mini_dataset):
    clips = load_clips([mini_dataset[0]])
    dataset = ClipDataset(clips, stage=2, resolution=32, seed=0, num_frames=4, motion_frames=2, mask_resolution=8)
    sample = dataset[(3, 0)]
    assert sample["pixel_values"].shape == (4, 3, 32, 32)
    assert sample["motion_pixel_values"].shape == (2, 3, 32, 32)
    assert sample["masks"].shape == (3, 8, 8)
    assert sample["audio_samples"].shape == ((4 + 4) * 640,)  # 4 frames + 2 context frames each side, 640 samples a frame
    again = dataset[(3, 0)]
    assert (again["pixel_values"] == sample["pixel_values"]).all() and again["text"] == sample["text"]


def test_configs_load(monkeypatch):
    for name in ("stage1", "stage2_phase1", "stage2_phase2", "stage2_phase3", "tiny"):
        config = load_config(CONFIGS / f"{name}.yaml")
        assert config.stages
    tiny = load_config(CONFIGS / "tiny.yaml")
    assert [s.name for s in tiny.stages] == ["stage1", "stage2_phase1", "stage2_phase2", "stage2_phase3"]
    phase3 = load_config(CONFIGS / "stage2_phase3.yaml").stages[0]
    assert phase3.mixture == {"hdtf": 1.0} and phase3.stage == 2


def test_config_rejects_unknown_keys(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim: {learning_rat: 1.0e-4}\nstages: [{name: s, stage: 1, steps: 1}]\n")
    with pytest.raises(EmocastError, match="learning_rat"):
        load_config(bad)
    bad.write_text("stages: [{name: s, stage: 3, steps: 1}]\n")
    with pytest.raises(EmocastError, match="stage 1 or 2"):
        load_config(bad)
