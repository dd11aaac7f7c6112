"""Soft region masks of a face: lip, expression (face) and pose (head), as EmoCAST / Hallo use them.

EmoCAST's emotive audio attention weights audio features separately inside three regions
(Hallo's hierarchical audio-driven visual synthesis): the lips and the chin that moves with them,
the whole face where expressions happen, and the head (face, hair and neck) that carries pose.
The diffusion engine resizes these to its latent size; the training dataset stores them per clip.
"""

from __future__ import annotations

import numpy as np

from emocast.face import landmarks as lm

LIP_WIDEN = 1.45  # lip region: outer lips scaled about the mouth centre, horizontally ...
LIP_HEIGHTEN = 1.9  # ... and vertically (covers the philtrum and lip movement)
JAW_DROP = 0.25  # chin points moved down by this fraction of face_size (an open jaw drops)
HEAD_UP = 0.55  # pose region above the face oval, fraction of oval height (hair)
HEAD_DOWN = 0.35  # below the oval (neck)
HEAD_SIDES = 0.3  # on each side, fraction of oval width (hair, ears)
FEATHER = 0.08  # Gaussian feather sigma, fraction of face_size
SUPERSAMPLE = 4  # polygons are drawn with this many sub-pixel bits (cv2 `shift`)


def region_masks(landmarks: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Feathered lip / expression / pose masks of one face.

    Args:
        landmarks: (478, 2 or 3) landmarks in pixels of a (height, width) = `shape` image
            (scale them first for a latent-sized mask).
        shape: (height, width) of the masks in pixels.

    Returns:
        {"lip", "expression", "pose"}: (H, W) float32 in 0..1. "lip" covers the mouth and the
        chin area that moves with it; "expression" the whole face oval; "pose" the head (face
        oval widened to hair, ears and neck).
    """
    points = np.asarray(landmarks, np.float64)[:, :2]
    height, width = int(shape[0]), int(shape[1])
    size = lm.face_size(points)
    down = _down_axis(points)

    # lip: widened outer lips + the chin, dropped as far as an open jaw goes
    lips = points[list(lm.LIPS_OUTER)]
    mouth_centre = lips.mean(axis=0)
    widened = mouth_centre + (lips - mouth_centre) * np.array([LIP_WIDEN, LIP_HEIGHTEN])
    chin = points[list(lm.CHIN)]
    lip_polygon = np.concatenate([widened, chin, chin + JAW_DROP * size * down])

    # expression: the face oval
    oval = points[list(lm.FACE_OVAL)]

    # pose: the oval's bounding box in the face frame, extended to hair, ears and neck
    side = np.array([down[1], -down[0]])
    along, across = oval @ side, oval @ down
    oval_w, oval_h = np.ptp(along), np.ptp(across)
    a0, a1 = along.min() - HEAD_SIDES * oval_w, along.max() + HEAD_SIDES * oval_w
    c0, c1 = across.min() - HEAD_UP * oval_h, across.max() + HEAD_DOWN * oval_h
    head = np.array([[a, c] for a, c in ((a0, c0), (a1, c0), (a1, c1), (a0, c1))])
    head_polygon = head[:, :1] * side + head[:, 1:] * down

    sigma = max(FEATHER * size, 0.5)
    return {
        "lip": _soft_polygon(_hull(lip_polygon), height, width, sigma),
        "expression": _soft_polygon(oval, height, width, sigma),
        "pose": _soft_polygon(head_polygon, height, width, 2 * sigma),
    }


def _down_axis(points: np.ndarray) -> np.ndarray:
    """Unit vector pointing down the face (perpendicular to the eye line), image coordinates."""
    eye_axis = points[list(lm.LEFT_EYE)].mean(axis=0) - points[list(lm.RIGHT_EYE)].mean(axis=0)
    eye_axis /= max(np.linalg.norm(eye_axis), 1e-9)
    return np.array([-eye_axis[1], eye_axis[0]])


def _hull(points: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.convexHull(points.astype(np.float32)).reshape(-1, 2).astype(np.float64)


def _soft_polygon(polygon: np.ndarray, height: int, width: int, sigma: float) -> np.ndarray:
    """Filled polygon (sub-pixel, anti-aliased) blurred by a Gaussian of `sigma` pixels; (H, W) float32."""
    import cv2

    mask = np.zeros((height, width), np.uint8)
    fixed = np.round(polygon * (1 << SUPERSAMPLE)).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(mask, [fixed], 255, lineType=cv2.LINE_AA, shift=SUPERSAMPLE)
    soft = mask.astype(np.float32) / 255.0
    soft = cv2.GaussianBlur(soft, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_CONSTANT)
    # the blur leaves 0.5 on the outline; doubling puts the whole ramp outside the polygon, so
    # everything inside stays 1 and the feather fades out over ~2 sigma beyond it
    return np.clip(2.0 * soft, 0.0, 1.0)
