import numpy as np

from emocast.motion.animate import plan_motion
from emocast.motion.eyes import blink_curve
from emocast.options import GenerateOptions
from tests.motion.conftest import expression, speech

FPS = 25


def test_blinks_at_natural_intervals_and_deterministic():
    n = 60 * FPS
    curve, starts = blink_curve(n, FPS, np.random.default_rng(3))
    gaps = np.diff(starts)
    assert 10 <= len(starts) <= 30
    assert gaps.min() >= 2.0 - 1e-6 and gaps.max() <= 6.0 + 1e-6
    closed = curve > 0.5
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, closed.astype(int), 0])))[::2]
    assert runs.max() <= 0.25 * FPS  # each blink is brief
    again, starts2 = blink_curve(n, FPS, np.random.default_rng(3))
    assert np.array_equal(curve, again) and starts == starts2
    _, other = blink_curve(n, FPS, np.random.default_rng(4))
    assert other != starts


def test_plan_motion_is_deterministic_and_full_length(hdtf):
    _, crop = hdtf
    n = 100
    rng = np.random.default_rng(0)
    loud = np.clip(np.abs(np.sin(np.arange(n) / 3.0)) + 0.1 * rng.random(n), 0, 1)
    opts = GenerateOptions(head_motion=1.0, seed=7)
    a = plan_motion(crop, expression({"AU12": 0.8}, 40), speech(n, jaw=0.5 * loud, loudness=loud), opts)
    b = plan_motion(crop, expression({"AU12": 0.8}, 40), speech(n, jaw=0.5 * loud, loudness=loud), opts)
    assert a.num_frames == n and a.mesh_at(n - 1).shape == (478, 3)
    assert np.array_equal(a.mesh_at(50), b.mesh_at(50)) and np.array_equal(a.pose, b.pose)
    assert np.abs(a.pose).max() > np.radians(0.5)  # the head moves ...
    assert np.abs(np.diff(a.pose, axis=0)).max() < np.radians(1.0)  # ... smoothly, no jitter


def test_head_motion_zero_keeps_the_head_still(hdtf):
    _, crop = hdtf
    n = 50
    loud = np.linspace(0, 1, n)
    m = plan_motion(crop, expression({}, n), speech(n, loudness=loud), GenerateOptions(head_motion=0.0, blink=False))
    assert not m.pose.any() and not m.translation.any()
    first = m.rest_at(0)
    assert all(np.allclose(m.rest_at(i), first) for i in (10, 30, 49))


def test_blink_option_off(hdtf):
    _, crop = hdtf
    m = plan_motion(crop, expression({}, 200), speech(200), GenerateOptions(blink=False))
    assert not m.blink.any()
    m = plan_motion(crop, expression({}, 200), speech(200), GenerateOptions(blink=True, seed=1))
    assert m.blink.max() > 0.9
