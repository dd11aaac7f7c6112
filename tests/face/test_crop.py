"""crop_face: framing, exact mapping back to the photo, padding, determinism."""

import dataclasses

import cv2
import numpy as np
import pytest

from emocast.face import landmarks as lm
from emocast.face.crop import crop_face
from emocast.face.detect import detect_face


def _to_original(crop, points: np.ndarray) -> np.ndarray:
    x0, y0, side = crop.crop_box
    scale = side / crop.image.shape[0]
    return points[:, :2] * scale + [x0, y0]


@pytest.mark.parametrize("name", ["astronaut", "speaker"])
@pytest.mark.parametrize("size", [256, 512])
def test_face_centred_and_maps_back(faces, name, size):
    face = faces[name]
    crop = crop_face(face, size)
    assert crop.image.shape == (size, size, 3) and crop.image.dtype == np.uint8
    assert crop.landmarks.shape == (478, 3) and crop.landmarks.dtype == np.float32
    assert np.abs(_to_original(crop, crop.landmarks) - face.landmarks[:, :2]).max() < 1.0
    oval = crop.landmarks[list(lm.FACE_OVAL), :2]
    width, height = np.ptp(oval, axis=0) / size
    assert 0.4 <= max(width, height) <= 0.7  # the face spans about half the side
    assert abs(oval[:, 0].min() + oval[:, 0].max() - size) / size < 0.1  # centred left/right
    eyes_y = crop.landmarks[list(lm.LEFT_EYE) + list(lm.RIGHT_EYE), 1].mean() / size
    assert 0.3 < eyes_y < 0.5  # eyes a bit above the centre
    assert crop.landmarks[lm.CHIN_TIP, 1] < size  # chin inside
    # the pixels agree with the photo at a landmark (nose tip), through crop_box
    u, v = crop.landmarks[lm.NOSE_TIP, :2].astype(int)
    x, y = _to_original(crop, np.array([[u + 0.5, v + 0.5]]))[0].astype(int)
    assert np.abs(crop.image[v, u].astype(int) - face.image[y, x]).max() < 40


def test_deterministic_and_input_untouched(faces):
    face = faces["speaker"]
    before = face.landmarks.copy()
    a, b = crop_face(face, 256), crop_face(face, 256)
    assert a.crop_box == b.crop_box and np.array_equal(a.image, b.image) and np.array_equal(a.landmarks, b.landmarks)
    assert np.array_equal(face.landmarks, before) and face.crop_box is None


@pytest.mark.parametrize("cut", [(180, 512, 60, 460), (164, 448, 117, 397)])  # forehead cut; only the face, chin cut
def test_face_at_the_edge_gives_a_close_up_inside_the_photo(portraits, cut):
    top, bottom, left, right = cut
    picture = np.ascontiguousarray(portraits["speaker"][top:bottom, left:right])
    face = detect_face(picture)
    crop = crop_face(face, 256)
    # nothing invented: mirrored borders showed copies of the face around a tight headshot
    assert crop.padding == (0, 0, 0, 0)
    x0, y0, side = crop.crop_box
    assert x0 >= 0 and y0 >= 0 and x0 + side <= picture.shape[1] and y0 + side <= picture.shape[0]
    assert any("close-up" in w for w in crop.warnings)
    assert np.abs(_to_original(crop, crop.landmarks) - face.landmarks[:, :2]).max() < 1.0
    # the eyes stay in the picture's upper half, the face as central as the photo allows
    eyes = crop.landmarks[list(lm.LEFT_EYE) + list(lm.RIGHT_EYE), 1].mean()
    assert eyes < 0.55 * 256


def test_small_face_warns(portraits):
    canvas = np.full((1200, 1600, 3), 128, np.uint8)
    canvas[500:628, 700:828] = cv2.resize(portraits["speaker"], (128, 128), interpolation=cv2.INTER_AREA)
    crop = crop_face(detect_face(canvas), 512)
    assert any("small" in w for w in crop.warnings)
    assert crop.crop_box[2] < 256


def test_crop_of_a_crop_refers_to_the_photo(faces):
    face = faces["speaker"]
    first = crop_face(face, 400)
    second = crop_face(dataclasses.replace(first, warnings=[]), 300)
    assert np.abs(_to_original(second, second.landmarks) - face.landmarks[:, :2]).max() < 1.0
