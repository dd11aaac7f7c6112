"""The second render process gives exactly the frames of one process, survives its own death and cleans up."""

import os

import numpy as np
import pytest

from emocast.motion.animate import plan_motion
from emocast.render import helper as H
from emocast.render.frames import FrameRenderer, render_frames
from emocast.options import GenerateOptions
from tests.motion.conftest import expression, speech

pytestmark = pytest.mark.skipif(H.usable_cpus() < 2, reason="the render helper needs two CPU cores")

NUM_FRAMES = 250  # 10 s: long enough for the helper to start and take part, short enough for a test


@pytest.fixture(autouse=True)
def _helper_from_num_frames(monkeypatch):
    monkeypatch.setattr(H, "HELPER_MIN_FRAMES", NUM_FRAMES)  # the shortest clip that gets a helper


@pytest.fixture(scope="module")
def clip(hdtf):
    _, crop = hdtf
    jaw = 0.5 + 0.5 * np.sin(np.arange(NUM_FRAMES) / 3.0)  # talking, so frames differ
    motion = plan_motion(crop, expression({"AU12": 0.8, "AU6": 0.5}, NUM_FRAMES), speech(NUM_FRAMES, jaw=jaw),
                         GenerateOptions(head_motion=0.7, seed=3))
    return crop, motion


def _rings() -> set[str]:
    shm = H._shm_dir() or "/tmp"
    return {name for name in os.listdir(shm) if name.startswith("emocast-render-")}


def test_helper_frames_equal_one_process_frames(clip, caplog, monkeypatch):
    crop, motion = clip
    before = _rings()
    caplog.set_level("INFO", logger="emocast.render.helper")
    calls = []
    render = FrameRenderer.render
    monkeypatch.setattr(FrameRenderer, "render", lambda self, i: calls.append(i) or render(self, i))
    frames = H.helper_frames(crop, motion)
    assert frames is not None
    renderer = FrameRenderer(crop, motion)
    count = 0
    for i, frame in enumerate(frames):
        assert np.array_equal(frame, renderer.render(i)), f"frame {i} differs"
        count += 1
    assert count == NUM_FRAMES
    assert calls[0] == 0  # this process drew the first frame itself instead of waiting for the helper's start
    assert "render helper stopped" not in caplog.text
    assert len(calls) - NUM_FRAMES < 0.9 * NUM_FRAMES  # the helper drew a real share (calls here: ours + the test's)
    assert _rings() == before  # the ring file is removed


def test_short_clips_and_the_switch_use_one_process(clip, monkeypatch):
    crop, motion = clip
    short = plan_motion(crop, expression({}, 10), speech(10), GenerateOptions(seed=1))
    assert H.helper_frames(crop, short) is None
    monkeypatch.setenv("EMOCAST_RENDER_PROCESSES", "1")
    assert H.helper_frames(crop, motion) is None


def test_a_helper_that_dies_is_replaced_by_this_process(clip, monkeypatch, caplog):
    crop, motion = clip
    caplog.set_level("INFO", logger="emocast.render.helper")
    started = []
    original = H._Helper.__init__

    def init(self, *args):
        original(self, *args)
        started.append(self)

    monkeypatch.setattr(H._Helper, "__init__", init)
    frames = H.helper_frames(crop, motion)
    reference = list(render_frames(crop, motion, helper=False))
    out = []
    for i, frame in enumerate(frames):
        if i == 20:
            started[0].proc.kill()  # mid-clip, with frames handed to it
        out.append(frame)
    assert len(out) == NUM_FRAMES
    assert all(np.array_equal(a, b) for a, b in zip(out, reference))
    assert "render helper stopped" in caplog.text


def test_stopping_early_ends_the_helper(clip):
    crop, motion = clip
    before = _rings()
    frames = H.helper_frames(crop, motion)
    next(frames)
    frames.close()
    assert _rings() == before
