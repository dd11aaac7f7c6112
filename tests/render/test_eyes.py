"""The post-warp eye pass: white sclera above the iris where a raised upper lid uncovers it (AU5)."""

import cv2
import numpy as np
import pytest

from emocast.motion import topology as T
from emocast.motion.animate import plan_motion
from emocast.render.frames import FrameRenderer
from tests.motion.conftest import expression, speech, still

GREY = np.array([0.299, 0.587, 0.114])


def _frames(crop, aus, n=1):
    motion = plan_motion(crop, expression(aus, n), speech(n), still())
    renderer = FrameRenderer(crop, motion)
    return motion, renderer


def _without_eyes(renderer, i):
    renderer.eyes.draw = lambda frame, mesh: None  # the same renderer, eye pass off
    try:
        return renderer.render(i)
    finally:
        del renderer.eyes.draw


@pytest.mark.parametrize("name", ["hdtf", "astronaut"])
def test_raised_lids_show_white_above_the_iris(request, name):
    _, crop = request.getfixturevalue(name)
    motion, renderer = _frames(crop, {"AU1": 1.0, "AU2": 1.0, "AU5": 1.0})
    on, off = renderer.render(0), _without_eyes(renderer, 0)
    mesh = motion.mesh_at(0)
    changed = np.any(on != off, axis=2)
    assert changed.sum() > 20
    # only inside the eye openings (anti-aliasing and the soft edge reach 2 pixels past them, faintly)
    allowed, opening = np.zeros_like(changed), np.zeros(changed.shape, np.uint8)
    for eye in T.EYES:
        pts = mesh[list(eye.ring), :2]
        (x0, y0), (x1, y1) = np.floor(pts.min(0)).astype(int) - 2, np.ceil(pts.max(0)).astype(int) + 3
        allowed[y0:y1, x0:x1] = True
        cv2.fillPoly(opening, [np.round(pts).astype(np.int32)], 1)
    assert not (changed & ~allowed).any()
    outside = cv2.dilate(opening, np.ones((3, 3), np.uint8)) == 0
    assert np.abs(on.astype(int) - off.astype(int)).max(axis=2)[outside].max() <= 40
    # the painted pixels beside the iris are brighter than the stretched lid texture they replace
    iris_r = renderer.eyes.eyes[0].radius
    ys, xs = np.nonzero(changed)
    centres = mesh[[T.RIGHT_IRIS[0], T.LEFT_IRIS[0]], :2]
    far = np.min(np.hypot(xs[:, None] - centres[:, 0], ys[:, None] - centres[:, 1]), axis=1) > 1.3 * iris_r
    assert far.sum() > 5
    lum_on = on[ys[far], xs[far]] @ GREY
    lum_off = off[ys[far], xs[far]] @ GREY
    assert lum_on.mean() > lum_off.mean() + 10
    # the iris stays round and dark: painted pixels well inside its circle are darker than the sclera
    near = np.min(np.hypot(xs[:, None] - centres[:, 0], ys[:, None] - centres[:, 1]), axis=1) < 0.7 * iris_r
    if near.any():
        assert (on[ys[near], xs[near]] @ GREY).mean() < lum_on.mean() - 30


@pytest.mark.parametrize("aus", [{}, {"AU7": 1.0}, {"AU43": 1.0}, {"AU4": 1.0, "AU7": 0.8}, {"AU12": 1.0, "AU6": 0.8}])
def test_eyes_left_alone_when_no_lid_rises(hdtf, aus):
    _, crop = hdtf
    motion, renderer = _frames(crop, aus)
    assert np.array_equal(renderer.render(0), _without_eyes(renderer, 0))


def test_sampled_colours_are_a_white_and_a_darker_iris(hdtf, astronaut):
    for _, crop in (hdtf, astronaut):
        motion, renderer = _frames(crop, {})
        for eye in renderer.eyes.eyes:
            assert eye.sclera @ GREY > eye.iris_rgb @ GREY + 25
            assert eye.sclera.max() - eye.sclera.min() < 60  # whitish, not skin-coloured
            assert 0.0 <= eye.margin <= 0.04 * renderer.iod
            assert 0.06 * renderer.iod <= eye.radius <= 0.13 * renderer.iod


def test_no_flicker_small_lid_changes_change_little(hdtf):
    """A lid rising smoothly over frames paints a band that grows smoothly (no popping pixels)."""
    _, crop = hdtf
    n = 12
    motion = plan_motion(crop, expression({"AU5": 1.0}, n), speech(n), still())
    motion.weights[:, motion.channels.index("AU5")] = np.linspace(0.0, 1.0, n)
    renderer = FrameRenderer(crop, motion)
    frames = [renderer.render(i).astype(int) for i in range(n)]
    steps = [np.abs(b - a).max() for a, b in zip(frames, frames[1:])]
    assert max(steps) < 120  # one ~0.09 AU5 step moves no pixel from lashes to full white
    assert np.any(frames[-1] != frames[0])
