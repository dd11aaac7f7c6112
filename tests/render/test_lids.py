"""The post-warp lid pass: closing upper lids drawn without the iris showing through them."""

import cv2
import numpy as np
import pytest

from emocast.motion import topology as T
from emocast.motion.animate import plan_motion
from emocast.render.frames import FrameRenderer
from emocast.render.lids import CLOSE_FROM, draw_closing_lids, lid_closure
from tests.motion.conftest import expression, speech, still

GREY = np.array([0.299, 0.587, 0.114])
EYES = tuple((eye.upper, eye.crease) for eye in T.EYES)


def _renderer(crop, n=1):
    motion = plan_motion(crop, expression({}, n), speech(n), still())
    return motion, FrameRenderer(crop, motion)


def _lid_skin(picture, mesh, inset=1):
    """Grey levels of the lid's skin: between the crease and the upper lid, `inset` px in from both."""
    grey = picture.astype(np.float64) @ GREY
    values = []
    for upper, crease in EYES:
        mask = np.zeros(grey.shape, np.uint8)
        poly = np.concatenate([mesh[list(crease), :2], mesh[list(upper), :2][::-1]])
        cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 255)
        mask = cv2.erode(mask, np.ones((2 * inset + 1, 2 * inset + 1), np.uint8))
        values.append(grey[mask > 0])
    return np.concatenate(values)


@pytest.mark.parametrize("name", ["hdtf", "astronaut"])
def test_closed_lids_show_no_iris(request, name):
    _, crop = request.getfixturevalue(name)
    motion, renderer = _renderer(crop)
    photo = _lid_skin(renderer.image, motion.source)
    low, high = np.percentile(photo, 1) - 12, np.percentile(photo, 99) + 12
    for blink in (0.9, 1.0):
        motion.blink[0] = blink
        mesh = motion.mesh_at(0)
        assert min(lid_closure(motion.source, mesh)) > 0.8
        skin = _lid_skin(renderer.render(0), mesh, inset=2)  # stretched: its lash line is wider
        # the iris and its catchlights used to show through as dark dots and bright rings
        outliers = np.mean((skin < low) | (skin > high))
        assert outliers < 0.01, (blink, outliers)


def test_open_eyes_are_left_to_the_warp(hdtf):
    _, crop = hdtf
    motion, renderer = _renderer(crop)
    for blink in (0.0, 0.3):
        motion.blink[0] = blink
        mesh = motion.mesh_at(0)
        assert max(lid_closure(motion.source, mesh)) < CLOSE_FROM
        frame = renderer.render(0)
        before = frame.copy()
        draw_closing_lids(frame, renderer.image, motion.source, mesh, renderer.iod)
        assert np.array_equal(frame, before)
    assert lid_closure(motion.source, motion.source) == [0.0, 0.0]


def test_irises_of_shut_eyes_stay_put_without_overflow(hdtf):
    """An eye whose lids meet (a laughing photo, a full blink) left the iris squash dividing by ~0:
    exp overflowed and a RuntimeWarning reached the user's terminal."""
    import warnings

    from emocast.render.warp import irises_inside

    _, crop = hdtf
    points = np.asarray(crop.landmarks, np.float64)[:, :2].copy()
    for eye in T.EYES:
        lower = points[list(eye.lower)]
        order = np.argsort(lower[:, 0])
        points[list(eye.upper), 1] = np.interp(points[list(eye.upper), 0], lower[order, 0], lower[order, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        moved = irises_inside(points)
    assert np.isfinite(moved).all()
    for eye in T.EYES:  # every iris point lands between the lids, on the shut lid line (within its kinks)
        xs = moved[list(eye.iris), 0]
        top = T.contour_y(moved[list(eye.upper)], xs)
        bottom = np.maximum(T.contour_y(moved[list(eye.lower)], xs), top)
        assert (moved[list(eye.iris), 1] >= top - 1e-6).all() and (moved[list(eye.iris), 1] <= bottom + 1e-3).all()
        assert np.abs(moved[list(eye.iris), 1] - top).max() < 0.5
