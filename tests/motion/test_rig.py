import numpy as np

from emocast.motion import topology as T
from emocast.motion.animate import plan_motion
from emocast.motion.neutral import mouth_features, neutralize
from emocast.motion.rig import FaceFrame
from tests.motion.conftest import expression, speech, still


def _face_frame_mesh(crop, aus, jaw=None):
    motion = plan_motion(crop, expression(aus, 1), speech(1, jaw=jaw), still())
    return motion.frame.to_face(motion.mesh_at(0)), motion


def test_neutral_fit_removes_the_smile(astronaut):
    _, crop = astronaut
    face = FaceFrame.from_landmarks(crop.landmarks).to_face(crop.landmarks)
    neutral, fitted = neutralize(face)
    assert fitted["AU12"] > 0.2
    assert mouth_features(neutral)[0] < mouth_features(face)[0] - 0.03  # corners move down vs lip centre
    assert fitted["lip_gap"] > 0.05  # teeth showing
    gap = neutral[list(T.LIP_INNER_LOWER), 1] - neutral[list(T.LIP_INNER_UPPER), 1]
    assert np.all(gap <= 1e-6)  # lips closed over the teeth


def test_au12_raises_mouth_corners(hdtf):
    _, crop = hdtf
    base, _ = _face_frame_mesh(crop, {})
    smile, _ = _face_frame_mesh(crop, {"AU12": 1.0})
    corners = list(T.MOUTH_CORNERS)
    assert np.all(smile[corners, 1] < base[corners, 1] - 0.05)  # y points down: up = smaller


def test_au4_lowers_inner_brows(hdtf):
    _, crop = hdtf
    base, _ = _face_frame_mesh(crop, {})
    frown, _ = _face_frame_mesh(crop, {"AU4": 1.0})
    inner = [55, 285]
    assert np.all(frown[inner, 1] > base[inner, 1] + 0.05)
    assert abs(frown[285, 0] - frown[55, 0]) < abs(base[285, 0] - base[55, 0])  # drawn together


def test_au26_and_speech_jaw_open_the_mouth(hdtf):
    _, crop = hdtf
    base, _ = _face_frame_mesh(crop, {})
    jaw, _ = _face_frame_mesh(crop, {"AU26": 1.0})
    talk, _ = _face_frame_mesh(crop, {}, jaw=np.ones(1))
    for mesh in (jaw, talk):
        gap = mesh[T.STOMION_LOWER, 1] - mesh[T.STOMION_UPPER, 1]
        assert gap > 0.15
        assert mesh[T.CHIN, 1] > base[T.CHIN, 1] + 0.1
    assert base[T.STOMION_LOWER, 1] - base[T.STOMION_UPPER, 1] < 1e-6


def test_open_mouth_is_a_lens_not_a_box(hdtf):
    _, crop = hdtf
    base, _ = _face_frame_mesh(crop, {})
    for aus, jaw in (({"AU26": 1.0}, None), ({}, np.ones(1))):
        mesh, _ = _face_frame_mesh(crop, aus, jaw=jaw)
        gap = mesh[list(T.LIP_INNER_LOWER), 1] - mesh[list(T.LIP_INNER_UPPER), 1]
        centre = gap[len(gap) // 2]
        # opening height falls off towards the corners like an ellipse (sqrt(1 - 0.85^2) = 0.53)
        assert gap[1] < 0.7 * centre and gap[-2] < 0.7 * centre
        assert np.all(np.diff(gap[: len(gap) // 2 + 1]) > 0) and np.all(np.diff(gap[len(gap) // 2:]) < 0)
        # the upper lip's sides come down with the corners, its middle stays
        upper = list(T.LIP_INNER_UPPER)
        assert mesh[upper[1], 1] - base[upper[1], 1] > 0.02 and mesh[upper[-2], 1] - base[upper[-2], 1] > 0.02
        assert abs(mesh[T.STOMION_UPPER, 1] - base[T.STOMION_UPPER, 1]) < 0.02


def test_smile_stays_while_talking(hdtf):
    _, crop = hdtf
    base, _ = _face_frame_mesh(crop, {})
    smile_talk, _ = _face_frame_mesh(crop, {"AU12": 1.0}, jaw=np.full(1, 0.6))
    assert mouth_features(smile_talk)[0] > mouth_features(base)[0]


def test_a_dropping_jaw_keeps_the_lips_rows_in_order_on_closed_lips(closed_lips):
    """Lips closed in the photo: the rows of points inside each lip move with it, so opening the jaw
    never folds a lip over itself (inner contour below the rows under it: the warp then sampled the
    seam and drew rings on the lower lip)."""
    _, crop = closed_lips
    for aus in ({"AU26": 1.0, "AU25": 1.0}, {"AU26": 0.9, "AU20": 1.0, "AU25": 0.8}, {"AU10": 1.0, "AU25": 1.0, "AU26": 0.8}):
        mesh, _ = _face_frame_mesh(crop, aus)
        for inner, outer, rows, sign in ((T.LIP_INNER_UPPER, T.LIP_OUTER_UPPER, T.LIP_UPPER_ROWS, -1.0),
                                         (T.LIP_INNER_LOWER, T.LIP_OUTER_LOWER, T.LIP_LOWER_ROWS, 1.0)):
            columns = np.stack([mesh[list(inner[2:-2]), 1], *(mesh[list(r[1:-1]), 1] for r in rows), mesh[list(outer[2:-2]), 1]])
            # in order to within 0.005 IOD (the previous rig folded the inner contour 0.04-0.115 IOD past them)
            assert (sign * np.diff(columns, axis=0) > -0.005).all(), aus
