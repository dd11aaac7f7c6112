"""The index sets equal what MediaPipe's connection sets give; measurements behave."""

import numpy as np

from emocast.face import landmarks as lm


def test_index_sets_match_mediapipe(faces):
    derived = lm.derive_index_sets(faces["speaker"].landmarks)
    for name, indices in derived.items():
        value = getattr(lm, name)
        assert (value if isinstance(value, tuple) else (value,)) == indices, name
    # the same from another face
    assert lm.derive_index_sets(faces["astronaut"].landmarks) == derived


def test_contours_are_consistent():
    assert len(set(lm.LIPS_OUTER)) == len(lm.LIPS_OUTER) == 20
    assert len(set(lm.LIPS_INNER)) == len(lm.LIPS_INNER) == 20
    assert lm.UPPER_LIP_INNER[0] == lm.LOWER_LIP_INNER[0] and lm.UPPER_LIP_INNER[-1] == lm.LOWER_LIP_INNER[-1]
    assert len(set(lm.LEFT_EYE)) == len(lm.LEFT_EYE) == 16 and len(set(lm.FACE_OVAL)) == 36
    assert set(lm.CHIN) < set(lm.JAW) < set(lm.FACE_OVAL)
    assert lm.LEFT_IRIS == tuple(range(473, 478)) and lm.RIGHT_IRIS == tuple(range(468, 473))


def test_contours_run_left_to_right(faces):
    points = faces["astronaut"].landmarks
    for contour in (lm.UPPER_LIP_OUTER, lm.LOWER_LIP_INNER, lm.LEFT_EYE_UPPER, lm.RIGHT_EYE_LOWER, lm.JAW, lm.LEFT_BROW_UPPER):
        xs = points[list(contour), 0]
        assert xs[0] < xs[-1]


def test_measurements_track_the_mouth_and_eyes(faces):
    points = faces["astronaut"].landmarks.astype(np.float64)
    opened = points.copy()
    lower = list(set(lm.LOWER_LIP_INNER[1:-1]) | set(lm.LOWER_LIP_OUTER[1:-1]))
    opened[lower, 1] += 0.3 * lm.face_size(points)
    assert lm.mouth_opening(opened) > lm.mouth_opening(points) + 0.25
    closed = points.copy()
    closed[list(lm.LEFT_EYE_UPPER), :2] = closed[list(lm.LEFT_EYE_LOWER), :2]
    left, right = lm.eye_opening(closed)
    assert left < 1e-6 and right == lm.eye_opening(points)[1]
    # scale invariant
    assert np.isclose(lm.mouth_opening(points * 3), lm.mouth_opening(points))
    assert np.isclose(lm.face_size(points * 2), 2 * lm.face_size(points))
