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
