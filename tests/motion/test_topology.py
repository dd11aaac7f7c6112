import cv2
import numpy as np

from emocast.motion import topology as T
from emocast.motion.rig import FaceFrame


def test_eyes_pair_their_contours_from_the_outer_corner_in(hdtf):
    _, crop = hdtf
    face = FaceFrame.from_landmarks(crop.landmarks).to_face(crop.landmarks)
    assert [eye.upper for eye in T.EYES] == [T.RIGHT_EYE_UPPER, T.LEFT_EYE_UPPER]
    for side, eye in zip((-1.0, 1.0), T.EYES):  # the subject's right eye has u < 0 in the face frame
        assert eye.upper[0] == eye.lower[0] and eye.upper[-1] == eye.lower[-1]  # shared corners
        outer, inner = face[eye.upper[0], 0], face[eye.upper[-1], 0]
        assert side * outer > side * inner > 0.0  # outer corner farther from the midline
        # paired index by index: each upper point lies above its lower partner (v points down the face)
        assert (face[list(eye.upper[1:-1]), 1] < face[list(eye.lower[1:-1]), 1]).all()
        assert face[list(eye.crease), 1].mean() < face[list(eye.upper), 1].mean()
        ring = np.round(face[list(eye.ring), :2] * 1000).astype(np.int32)
        centre = tuple(float(c) for c in face[eye.iris[0], :2] * 1000)
        assert cv2.pointPolygonTest(ring, centre, False) > 0  # the iris centre inside the lids


def test_lip_rows_lie_between_the_inner_and_outer_contours(hdtf, astronaut):
    """Every mesh point inside a lip (between its inner and outer contours) is one of that lip's
    points, and the rows run from the inner side out, column by column."""
    for _, crop in (hdtf, astronaut):
        points = np.asarray(crop.landmarks, np.float32)[:, :2]
        for lip, inner, outer, rows in ((T.UPPER_LIP, T.LIP_INNER_UPPER, T.LIP_OUTER_UPPER, T.LIP_UPPER_ROWS),
                                        (T.LOWER_LIP, T.LIP_INNER_LOWER, T.LIP_OUTER_LOWER, T.LIP_LOWER_ROWS)):
            polygon = np.concatenate([points[list(inner)], points[list(outer)][::-1]])
            inside = {i for i in range(468) if cv2.pointPolygonTest(polygon, tuple(map(float, points[i])), True) > 0.5}
            assert inside <= set(lip)
            columns = np.stack([points[list(inner[1:-1]), 1], *(points[list(r), 1] for r in rows),
                                points[list(outer[1:-1]), 1]])
            order = np.diff(columns[:, 1:-1], axis=0)  # (next to the corners the rows almost meet)
            assert (order > 0).all() if lip == T.LOWER_LIP else (order < 0).all()  # lower lip: inner row on top
