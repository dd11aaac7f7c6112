"""The ETTH dataset builder end to end on the synthetic mini-dataset."""

from __future__ import annotations

import json
import shutil

import numpy as np

from emocast.emotion.plan import EMOTIONS
from emocast.video import probe
from training.build_dataset import BuildOptions, build_dataset
from training.synthetic import CLIPS


def _rows(folder, name="manifest.jsonl"):
    return [json.loads(line) for line in (folder / name).read_text().splitlines() if line.strip()]


def test_manifest_rows_and_clip_files(mini_dataset):
    folder, counts = mini_dataset
    assert counts["processed"] == len(CLIPS) and counts["skipped"] == 2
    rows = {row["id"]: row for row in _rows(folder)}
    assert len(rows) == len(CLIPS)
    angry = rows["M001_front_angry_level_3_001"]
    assert (angry["identity"], angry["source"], angry["emotion"], angry["intensity"]) == ("M001", "mead", "angry", 1.0)
    assert rows["W002_front_sad_level_2_001"]["intensity"] == round(2 / 3, 4)
    assert rows["WDA_Speaker_000"]["source"] == "hdtf" and rows["WDA_Speaker_000"]["label_source"] == "classifier"
    assert rows["wild_astronaut_talk_001"]["identity"] == "astronaut"
    for row in rows.values():
        assert set(row) >= {"id", "identity", "source", "emotion", "intensity", "texts", "sync", "paths"}
        assert row["emotion"] in EMOTIONS and 0.0 <= row["intensity"] <= 1.0
        assert len(row["texts"]) == 4 and len(set(row["texts"])) == 4
        assert row["sync"]["method"] == "agreement" and -1.0 <= row["sync"]["confidence"] <= 2.0
        clip = folder / row["paths"]["dir"]
        info = probe(clip / "frames.mp4")
        assert (info.width, info.fps, info.num_frames) == (96, 25.0, row["num_frames"])
        landmarks = np.load(clip / "landmarks.npy")
        assert landmarks.shape == (row["num_frames"], 478, 3)
        assert np.isfinite(landmarks[:, :, :2]).all(axis=(1, 2)).mean() > 0.7
        masks = np.load(clip / "masks.npz")
        lip, expression, pose = (masks[k] > 127 for k in ("lip", "expression", "pose"))
        # lips inside the face inside the head, and all of them cover a plausible area
        assert 0.005 < lip.mean() < expression.mean() < pose.mean() < 0.95
        assert (lip & ~pose).mean() < 0.01
        # the lip mask covers the mouth landmarks
        mouth = landmarks[0, 13, :2].round().astype(int)
        assert lip[mouth[1], mouth[0]]


def test_corrupt_and_faceless_videos_are_skipped_with_reasons(mini_dataset):
    folder, _ = mini_dataset
    reasons = {row["video"]: row["reason"] for row in _rows(folder, "skipped.jsonl")}
    assert "cannot read video" in reasons["broken/corrupt.mp4"]
    assert "no face" in reasons["broken/no_face.mp4"]


def test_second_run_processes_nothing_new(mini_videos, mini_dataset):
    folder, _ = mini_dataset
    before = (folder / "manifest.jsonl").read_text()
    counts = build_dataset(mini_videos, folder, BuildOptions(size=96), workers=2, progress=False)
    assert counts["processed"] == 0 and counts["skipped"] == 0 and counts["already_done"] == len(CLIPS) + 2
    assert (folder / "manifest.jsonl").read_text() == before


def test_sync_threshold_skips_clips(mini_videos, tmp_path):
    options = BuildOptions(size=96, min_sync=5.0)  # no clip can reach a confidence of 5
    only_one = tmp_path / "videos"
    only_one.mkdir()
    shutil.copy(mini_videos / "M001/video/front/angry/level_3/001.mp4", only_one / "M001_angry_level_3_001.mp4")
    counts = build_dataset(only_one, tmp_path / "out", options, workers=1, progress=False)
    assert counts["processed"] == 0 and counts["skipped"] == 1
    assert all("below the threshold" in row["reason"] for row in _rows(tmp_path / "out", "skipped.jsonl"))
