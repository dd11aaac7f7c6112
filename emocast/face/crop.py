"""Face-centred square crop of the portrait, the frame every later stage animates.

The face (the landmark oval, measured along the face's own axes so head roll does not inflate it)
spans about `FACE_FRACTION` of the side; the eyes sit at `EYE_LEVEL` (a little above the centre),
leaving room for hair above and chin and neck below. Head roll is kept as in the photo. When the
ideal square does not fit in the picture it first shrinks (down to `MIN_FACE_FRACTION`) and
shifts a little; if it still does not fit, it becomes the largest square inside the picture as
near the face's centre as it can be (a close-up, with a warning). No pixel is invented: mirrored
borders showed kaleidoscopes of the face on tight headshots.

Coordinates are continuous: pixel (i, j) covers [i, i+1) x [j, j+1), as MediaPipe's normalised
landmarks times the image size. So a crop point (u, v) is the original point
(x0 + u * side / size, y0 + v * side / size), exactly, with `crop_box = (x0, y0, side)`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from emocast.face import landmarks as lm
from emocast.face.geometry import FaceGeometry

FACE_FRACTION = 0.5  # face extent (larger of oval width / height) / crop side
MIN_FACE_FRACTION = 0.68  # tightest framing allowed when shrinking the square to fit the picture
MAX_SHIFT = 0.1  # the square may move this fraction of its side off-centre to stay in the picture
EYE_LEVEL = 0.42  # height of the eyes' midpoint from the crop's top, fraction of side


def crop_face(face: FaceGeometry, size: int) -> FaceGeometry:
    """Square, face-centred crop resized to `size` x `size`.

    Args:
        face: the portrait and its landmarks (from detect_face).
        size: side of the output crop in pixels.

    Returns:
        A FaceGeometry of the crop: landmarks and box in crop pixels (z scaled alike),
        `crop_box = (x0, y0, side)` in the original picture's pixels, `padding` (left, top, right,
        bottom) in original pixels outside the picture (0 unless the picture is under 8 px).
    """
    if size < 8:
        raise ValueError(f"crop size must be at least 8 pixels, got {size}")
    height, width = face.size
    x0, y0, side = crop_square(face.landmarks, height, width)
    crop, padding = extract_square(face.image, x0, y0, side, size)

    scale = size / side
    landmarks = face.landmarks.astype(np.float32).copy()
    landmarks[:, 0] = (landmarks[:, 0] - x0) * scale
    landmarks[:, 1] = (landmarks[:, 1] - y0) * scale
    landmarks[:, 2] *= scale
    bx0, by0, bx1, by1 = face.box
    box = ((bx0 - x0) * scale, (by0 - y0) * scale, (bx1 - x0) * scale, (by1 - y0) * scale)

    warnings = list(face.warnings)
    fraction = face_extent_along_axes(face.landmarks) / side
    if fraction > MIN_FACE_FRACTION * 1.02:
        warnings.append(
            f"the photo is tight around the face (it fills {min(fraction, 9.99):.0%} of the video's width); "
            "the video is a close-up: a photo with more space around the head looks better"
        )
    if side < size / 2:
        warnings.append(
            f"the face is small in the photo ({side} px crop upscaled to {size}); the video will look soft"
        )

    crop_box = (float(x0), float(y0), float(side))
    if face.crop_box is not None:  # a crop of a crop: express the box in the first picture's pixels
        px0, py0, pside = face.crop_box
        parent_scale = pside / width
        crop_box = (px0 + x0 * parent_scale, py0 + y0 * parent_scale, side * parent_scale)
    return replace(
        face,
        image=crop,
        landmarks=landmarks,
        box=tuple(float(v) for v in box),
        crop_box=crop_box,
        padding=padding,
        warnings=warnings,
    )


def crop_square(landmarks: np.ndarray, height: int, width: int) -> tuple[int, int, int]:
    """The crop square (x0, y0, side) in integer pixels of a (height, width) picture.

    Inside the picture whenever the picture is at least 8 px on each side. Deterministic: depends
    only on the landmarks and the picture size.
    """
    points = np.asarray(landmarks, np.float64)[:, :2]
    eye_axis, down_axis = _face_axes(points)
    oval = points[list(lm.FACE_OVAL)]
    eyes = (points[list(lm.LEFT_EYE)].mean(axis=0) + points[list(lm.RIGHT_EYE)].mean(axis=0)) / 2
    along = oval @ eye_axis
    extent = face_extent_along_axes(points)
    centre_along = (along.min() + along.max()) / 2

    def centre(side: float) -> np.ndarray:
        # centred across the oval; eyes at EYE_LEVEL of the side from the top
        return centre_along * eye_axis + (eyes @ down_axis + (0.5 - EYE_LEVEL) * side) * down_axis

    def square(side: float) -> tuple[int, int, int, int]:
        middle = centre(side)
        side = max(int(round(side)), 8)
        x0 = _fit(middle[0] - side / 2, side, width)
        y0 = _fit(middle[1] - side / 2, side, height)
        outside = max(0, -x0) + max(0, -y0) + max(0, x0 + side - width) + max(0, y0 + side - height)
        return x0, y0, side, outside

    # the widest framing between FACE_FRACTION and MIN_FACE_FRACTION that lies in the picture
    sides = np.linspace(extent / FACE_FRACTION, extent / MIN_FACE_FRACTION, 24)
    inside = [c for c in (square(side) for side in sides) if c[3] == 0]
    if inside:
        x0, y0, side, _ = max(inside, key=lambda c: c[2])
        return x0, y0, side
    # a tight photo: the largest square in it (up to the tightest framing), as near the ideal as it goes
    side = max(min(int(round(extent / MIN_FACE_FRACTION)), height, width), min(8, height, width))
    middle = centre(side)
    x0 = int(round(min(max(middle[0] - side / 2, 0.0), width - side)))
    y0 = int(round(min(max(middle[1] - side / 2, 0.0), height - side)))
    return x0, y0, side


def face_extent_along_axes(landmarks: np.ndarray) -> float:
    """Larger of the face oval's width and height measured along the face's own axes, pixels."""
    points = np.asarray(landmarks, np.float64)[:, :2]
    eye_axis, down_axis = _face_axes(points)
    oval = points[list(lm.FACE_OVAL)]
    return float(max(np.ptp(oval @ eye_axis), np.ptp(oval @ down_axis)))


def _face_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the eye line and down the face (head roll does not change the framing)."""
    eye_axis = points[list(lm.LEFT_EYE)].mean(axis=0) - points[list(lm.RIGHT_EYE)].mean(axis=0)
    eye_axis /= max(np.linalg.norm(eye_axis), 1e-9)
    return eye_axis, np.array([-eye_axis[1], eye_axis[0]])


def _fit(start: float, side: int, limit: int) -> int:
    """Shift [start, start + side) by at most MAX_SHIFT * side towards lying inside [0, limit)."""
    max_shift = MAX_SHIFT * side
    if start < 0:
        start = min(start + max_shift, 0.0)
    elif start + side > limit:
        start = max(start - max_shift, float(limit - side))
    return int(round(start))


def extract_square(
    image: np.ndarray, x0: int, y0: int, side: int, size: int
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Cut the square [x0, x0+side) x [y0, y0+side) from `image`, resized to `size` x `size`.

    Parts outside the picture are filled by mirroring its edges.

    Returns:
        (crop, padding): the (size, size, C) crop and the (left, top, right, bottom) pixels of the
        square that lay outside the picture.
    """
    import cv2

    height, width = image.shape[:2]
    padding = (max(0, -x0), max(0, -y0), max(0, x0 + side - width), max(0, y0 + side - height))
    patch = image[max(0, y0) : max(0, min(height, y0 + side)), max(0, x0) : max(0, min(width, x0 + side))]
    if patch.size == 0:  # square entirely outside the picture: nothing to mirror
        patch = np.zeros((side, side) + image.shape[2:], image.dtype)
    elif any(padding):
        left, top, right, bottom = padding
        # reflection needs the border to be smaller than the patch; replicate the rest
        border = cv2.BORDER_REFLECT_101 if max(left, right) < patch.shape[1] and max(top, bottom) < patch.shape[0] else cv2.BORDER_REPLICATE
        patch = cv2.copyMakeBorder(patch, top, bottom, left, right, border)
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    crop = cv2.resize(patch, (size, size), interpolation=interpolation)
    return crop, padding
