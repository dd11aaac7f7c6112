"""Temporal stability: landmark jitter on rigid face regions and frame-to-frame flicker.

Jitter is the high-frequency part of the motion of points that move only with the head (nose
bridge, eye corners): each point's distance from the midpoint of its previous and next positions,
in interocular units. Smooth head motion (constant velocity) scores 0; shaking scores high.

Flicker is measured on small grey frames: the frame-to-frame change of mean luminance (global
brightness pumping) and the mean absolute change outside the face box (a real camera's background
is still; a generator's may boil).
"""

from __future__ import annotations

import numpy as np

from emocast.evaluation.landmarks import RIGID_POINTS

FLICKER_SIDE = 64  # pixels: frames are shrunk to this before measuring flicker
BACKGROUND_MARGIN = 0.25  # the face box grows by this fraction on each side before it is masked out


def landmark_jitter(points: list[np.ndarray | None], interocular: list[float | None]) -> float | None:
    """Median over frames of the mean second-difference residual of the rigid landmarks.

    Args:
        points: per frame (68, 2) landmarks in pixels, or None where no face was found.
        interocular: per frame interocular distance in pixels (the unit), or None.

    Returns:
        Jitter in interocular units (~0.002-0.01 for a real video), None with fewer than 3 faces in a row.
    """
    residuals = []
    rigid = list(RIGID_POINTS)
    for t in range(1, len(points) - 1):
        prev, cur, nxt = points[t - 1], points[t], points[t + 1]
        if prev is None or cur is None or nxt is None or not interocular[t]:
            continue
        r = cur[rigid] - (prev[rigid] + nxt[rigid]) / 2
        residuals.append(float(np.linalg.norm(r, axis=1).mean() / interocular[t]))
    return float(np.median(residuals)) if residuals else None


def small_grey(rgb: np.ndarray) -> np.ndarray:
    """(FLICKER_SIDE, FLICKER_SIDE) float32 luminance 0..255 of a frame."""
    import cv2

    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (FLICKER_SIDE, FLICKER_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)


def flicker(greys: list[np.ndarray], boxes: list[tuple | None], frame_size: tuple[int, int]) -> dict:
    """Luminance flicker and background change between consecutive frames, in grey levels (0..255).

    Args:
        greys: per frame small grey images from `small_grey`.
        boxes: per frame face box (left, top, right, bottom) in pixels of the full frame, or None.
        frame_size: (width, height) of the full frame in pixels.
    """
    if len(greys) < 2:
        return {"luminance_flicker": None, "background_flicker": None}
    means = np.array([g.mean() for g in greys])
    # brightness pumping: frame-to-frame change of the mean, minus its slow trend (a fade is fine)
    lum = float(np.abs(np.diff(means - np.convolve(np.pad(means, 2, mode="edge"), np.ones(5) / 5, "valid"))).mean())
    w, h = frame_size
    background = np.ones((FLICKER_SIDE, FLICKER_SIDE), bool)
    for box in boxes:
        if box is None:
            continue
        left, top, right, bottom = box
        mx, my = (right - left) * BACKGROUND_MARGIN, (bottom - top) * BACKGROUND_MARGIN
        x0, x1 = int((left - mx) / w * FLICKER_SIDE), int(np.ceil((right + mx) / w * FLICKER_SIDE))
        y0 = int((top - my * 2) / h * FLICKER_SIDE)  # hair above the detector's box moves with the head
        background[max(0, y0) :, max(0, x0) : max(0, x1)] = False  # the body below the face moves too
    diffs = [np.abs(b - a)[background].mean() for a, b in zip(greys, greys[1:])] if background.any() else []
    return {
        "luminance_flicker": round(lum, 4),
        "background_flicker": round(float(np.mean(diffs)), 4) if diffs else None,
        "background_fraction": round(float(background.mean()), 3),
    }
