"""detect_face on the bundled portraits and on pictures made from them."""

import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from emocast.errors import EmocastError
from emocast.face import landmarks as lm
from emocast.face.detect import detect_face, rotate_points
from emocast.face.image import load_portrait


def _inside(point: np.ndarray, contour: np.ndarray) -> bool:
    return cv2.pointPolygonTest(contour.astype(np.float32).reshape(-1, 1, 2), (float(point[0]), float(point[1])), False) >= 0


def _mean_error(a: np.ndarray, b: np.ndarray) -> float:
    """Mean landmark distance (x, y) as a fraction of face size."""
    return float(np.linalg.norm(a[:, :2] - b[:, :2], axis=1).mean() / lm.face_size(b))


@pytest.mark.parametrize("name", ["astronaut", "speaker"])
def test_landmarks_are_plausible(faces, name):
    face = faces[name]
    points = face.landmarks
    assert points.shape == (478, 3) and points.dtype == np.float32
    assert face.num_faces == 1 and face.warnings == []
    assert face.image is not None and face.image.shape == (512, 512, 3)
    eyes_y = points[list(lm.LEFT_EYE) + list(lm.RIGHT_EYE), 1].mean()
    assert eyes_y < points[list(lm.LIPS), 1].mean() < points[lm.CHIN_TIP, 1]
    assert points[list(lm.LEFT_BROW), 1].mean() < points[list(lm.LEFT_EYE), 1].mean()
    # subject's left eye is on the image's right in an ordinary photo
    assert points[list(lm.LEFT_EYE), 0].mean() > points[list(lm.RIGHT_EYE), 0].mean()
    assert _inside(points[lm.LEFT_IRIS_CENTER], points[list(lm.LEFT_EYE)])
    assert _inside(points[lm.RIGHT_IRIS_CENTER], points[list(lm.RIGHT_EYE)])
    x0, y0, x1, y1 = face.box
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 512
    assert 30 < lm.face_size(points) < 250


def test_open_mouth_speaker_vs_eyes(faces):
    left, right = lm.eye_opening(faces["speaker"].landmarks)
    assert 0.15 < left < 0.5 and 0.15 < right < 0.5
    assert lm.mouth_opening(faces["speaker"].landmarks) > 0.05


def test_exif_rotated_jpeg_gives_upright_landmarks(tmp_path, portraits, faces):
    upright = portraits["speaker"]
    Image.fromarray(upright).save(tmp_path / "upright.jpg", quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90).save(tmp_path / "rotated.jpg", quality=95, exif=exif)
    reference = detect_face(load_portrait(tmp_path / "upright.jpg")).landmarks
    rotated = detect_face(load_portrait(tmp_path / "rotated.jpg")).landmarks
    assert _mean_error(rotated, reference) < 0.01


def test_big_picture_matches_small(portraits, faces):
    big = cv2.resize(portraits["speaker"], (4000, 4000), interpolation=cv2.INTER_CUBIC)
    face = detect_face(big)
    assert face.image.shape == (4000, 4000, 3)
    assert _mean_error(face.landmarks / (4000 / 512), faces["speaker"].landmarks) < 0.03


def test_small_face_in_large_canvas(portraits, faces):
    canvas = np.full((2000, 3000, 3), 128, np.uint8)
    side = int(0.12 * 3000)
    canvas[900 : 900 + side, 1700 : 1700 + side] = cv2.resize(portraits["speaker"], (side, side), interpolation=cv2.INTER_AREA)
    face = detect_face(canvas)
    found = (face.landmarks[:, :2] - [1700, 900]) * (512 / side)
    assert face.num_faces == 1
    assert _mean_error(found, faces["speaker"].landmarks) < 0.05


def test_two_faces_largest_wins(portraits, faces):
    canvas = np.full((700, 1200, 3), 200, np.uint8)
    canvas[150:406, 50:306] = cv2.resize(portraits["speaker"][:, ::-1], (256, 256), interpolation=cv2.INTER_AREA)
    canvas[100:612, 600:1112] = portraits["speaker"]
    face = detect_face(canvas)
    assert face.num_faces == 2
    assert face.warnings == ["found 2 faces; animating the largest"]
    assert face.box[0] > 600
    assert _mean_error(face.landmarks - [600, 100, 0], faces["speaker"].landmarks) < 0.02


def test_no_face_raises():
    rng = np.random.default_rng(0)
    gradient = np.broadcast_to(np.linspace(0, 255, 640, dtype=np.float32)[None, :, None], (480, 640, 3))
    noise = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for image in (gradient.astype(np.uint8), noise):
        with pytest.raises(EmocastError, match="no face found in photo.png; use a photo"):
            detect_face(np.ascontiguousarray(image), source="photo.png")


def test_rejects_wrong_arrays():
    with pytest.raises(EmocastError):
        detect_face(np.zeros((64, 64), np.uint8))
    with pytest.raises(EmocastError):
        detect_face(np.zeros((64, 64, 3), np.float32))


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_sideways_or_upside_down_photo_is_turned_upright(portraits, faces, turns):
    picture = portraits["speaker"][:, 40:]  # non-square
    face = detect_face(np.ascontiguousarray(np.rot90(picture, turns)))
    # FaceMesh alone fits an upright face to an upside-down one (mouth between the eyes)
    assert np.array_equal(face.image, picture)
    state = "upside down" if turns == 2 else "on its side"
    assert any(state in w and "turned upright" in w for w in face.warnings)
    assert _mean_error(face.landmarks + [40, 0, 0], faces["speaker"].landmarks) < 0.03


def test_upside_down_face_no_detector_sees_is_found(portraits, faces):
    # with a grey border, none of the passes finds the upside-down face; the half-turned picture has it
    framed = cv2.copyMakeBorder(portraits["astronaut"], 128, 128, 128, 128, cv2.BORDER_CONSTANT, value=(200, 200, 200))
    framed = cv2.resize(framed, (384, 384), interpolation=cv2.INTER_AREA)
    face = detect_face(np.ascontiguousarray(framed[::-1, ::-1]))
    assert np.array_equal(face.image, framed)
    expected = (faces["astronaut"].landmarks + [128, 128, 0]) * 0.5
    assert _mean_error(face.landmarks, expected) < 0.03


def test_rotate_points_round_trip():
    points = np.array([[0.0, 0.0, 1.0], [10.0, 2.0, 3.0], [99.5, 49.5, -2.0]])
    picture = np.zeros((50, 100), np.uint8)
    for turns in range(4):
        turned = rotate_points(points, turns, picture.shape)
        assert np.allclose(rotate_points(turned, 4 - turns, np.rot90(picture, turns).shape), points)
    # the pixel under a point moves with it
    picture[2, 10] = 255
    turned = rotate_points(points[1:2] + [0.5, 0.5, 0], 1, picture.shape)[0]
    assert np.rot90(picture)[int(turned[1]), int(turned[0])] == 255


def test_concurrent_calls_agree(portraits, faces):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(detect_face, [portraits["speaker"], portraits["astronaut"]] * 3))
    for result, name in zip(results, ["speaker", "astronaut"] * 3):
        assert np.array_equal(result.landmarks, faces[name].landmarks)


def test_closed_eyes_in_the_photo_are_warned_about(talking_head_video, faces):
    """A frame of the real clip mid-blink: the video could not open those eyes, so the user is told."""
    from emocast.face.detect import MIN_EYE_OPENING
    from emocast.face.landmarks import eye_opening
    from emocast.video import iter_frames

    blink = list(iter_frames(talking_head_video, max_frames=173))[-1]  # frame 172: both lids down
    face = detect_face(blink)
    assert max(eye_opening(face.landmarks)) < MIN_EYE_OPENING
    assert any("eyes look closed" in w for w in face.warnings)
    for name in ("astronaut", "speaker"):  # open eyes: well above the threshold, no warning
        assert min(eye_opening(faces[name].landmarks)) > 2 * MIN_EYE_OPENING


def test_mediapipe_is_imported_without_matplotlib(portrait_paths):
    # MediaPipe's drawing helpers import matplotlib.pyplot (0.8 s) at import time; detection must not
    # pay for it, and a later real import of matplotlib must still work, MediaPipe's reference too
    code = f"""
import sys
from emocast.face.detect import detect_face
from emocast.face.image import load_portrait
face = detect_face(load_portrait({str(portrait_paths['astronaut'])!r}))
assert face.landmarks.shape[0] == 478
assert "matplotlib" not in sys.modules, "detection imported matplotlib"
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from mediapipe.python.solutions import drawing_utils
assert drawing_utils.plt.figure is plt.figure
print("ok")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
