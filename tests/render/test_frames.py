import tracemalloc

import cv2
import numpy as np

from emocast.motion import topology as T
from emocast.motion.animate import plan_motion
from emocast.render.frames import render_frames
from emocast.render.mouth import mouth_area
from tests.motion.conftest import expression, speech, still


def _one_frame(crop, aus, jaw=None):
    motion = plan_motion(crop, expression(aus, 1), speech(1, jaw=jaw), still())
    return next(render_frames(crop, motion)), motion.mesh_at(0)


def _grey_in_polygon(frame, points):
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[:, :2]).astype(np.int32)], 1)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[mask > 0].astype(float)


def _mean_in_polygon(frame, points):
    grey = _grey_in_polygon(frame, points)
    return float(grey.mean()), len(grey)


def test_frames_shape_dtype_and_untorn_border(hdtf):
    _, crop = hdtf
    frame, _ = _one_frame(crop, {"AU12": 1.0, "AU4": 0.5}, jaw=np.ones(1))
    assert frame.shape == crop.image.shape and frame.dtype == np.uint8
    border = np.concatenate([frame[:2].reshape(-1, 3), frame[-2:].reshape(-1, 3),
                             frame[:, :2].reshape(-1, 3), frame[:, -2:].reshape(-1, 3)])
    source = np.concatenate([crop.image[:2].reshape(-1, 3), crop.image[-2:].reshape(-1, 3),
                             crop.image[:, :2].reshape(-1, 3), crop.image[:, -2:].reshape(-1, 3)])
    assert np.abs(border.astype(int) - source.astype(int)).max() <= 2


def test_mouth_interior_dark_when_open_absent_when_closed(hdtf):
    _, crop = hdtf
    open_frame, open_mesh = _one_frame(crop, {"AU26": 0.8, "AU25": 1.0})
    inner = open_mesh[T.inner_mouth_polygon()]
    assert mouth_area(open_mesh) > 50
    lips = open_mesh[list(T.LIP_OUTER_LOWER) + list(T.LIP_INNER_LOWER[::-1])]
    interior = _grey_in_polygon(open_frame, inner)
    lip_level, _ = _mean_in_polygon(open_frame, lips)
    assert len(interior) > 30
    assert np.percentile(interior, 40) < lip_level - 15  # a dark cavity between the teeth rows
    dark_open = float((interior < 45).mean())

    closed_frame, closed_mesh = _one_frame(crop, {})
    assert mouth_area(closed_mesh) < 2.0
    # the same pixels show lips and chin, not a cavity
    dark_closed = float((_grey_in_polygon(closed_frame, inner) < 45).mean())
    assert dark_open > 0.2 and dark_closed < dark_open / 3


def test_teeth_of_a_smiling_photo_vanish_when_neutral(astronaut):
    _, crop = astronaut
    frame, mesh = _one_frame(crop, {})
    # the photo shows bright teeth inside its inner-lip polygon; the neutral frame shows the
    # (darker) lip texture there
    src_poly = crop.landmarks[T.inner_mouth_polygon()]

    def brightest(image):
        return float(np.percentile(_grey_in_polygon(image, src_poly), 90))

    assert brightest(frame) < brightest(crop.image) - 15


def test_generator_streams_without_storing_frames(hdtf):
    _, crop = hdtf
    n = 300
    jaw = 0.5 + 0.5 * np.sin(np.arange(n) / 2.0)
    motion = plan_motion(crop, expression({"AU12": 0.5}, n), speech(n, jaw=jaw), still(blink=True))
    frames = render_frames(crop, motion)
    next(frames)  # precomputation done
    tracemalloc.start()
    count = 1
    for i, frame in enumerate(frames):
        count += 1
        if i == 20:
            early = tracemalloc.get_traced_memory()[0]
    late, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    frame_bytes = crop.image.nbytes
    assert late - early < 3 * frame_bytes  # nothing accumulates per frame
    assert peak < 40 * frame_bytes
