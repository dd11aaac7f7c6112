"""--keep-frame: paste each animated crop back into the whole original picture.

The crop (crop_box = (x0, y0, side) in the original's pixels) is scaled back to its place with
one cv2.warpAffine per frame and blended through a feathered mask, so no seam shows; the crop's
border pixels are unchanged by the warp anyway (its border anchors never move).

Output size: the original picture's size, capped so the longest side is at most
MAX_OUTPUT_SIDE (1920) pixels, then rounded down to even numbers (H.264 yuv420p needs them).
Use `composite_size` to know it before the first frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import cv2
import numpy as np

from emocast.face.geometry import FaceGeometry

MAX_OUTPUT_SIDE = 1920  # longest side of a --keep-frame video, pixels
FEATHER = 0.06  # width of the blend ramp at the crop's edge, fraction of the crop side


def composite_size(full: FaceGeometry) -> tuple[int, int]:
    """(width, height) of the composited frames for this picture (capped, even)."""
    h, w = full.image.shape[:2]
    scale = _scale(h, w)
    return max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)


def composite_frames(full: FaceGeometry, crop: FaceGeometry, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
    """Yield whole-picture frames with the animated crop pasted back.

    Args:
        full: the original picture (as detected).
        crop: the crop the frames were rendered from (its crop_box places it).
        frames: (size, size, 3) uint8 RGB animated crops.

    Yields:
        (H, W, 3) uint8 RGB frames of size `composite_size(full)` (width, height).
    """
    if crop.crop_box is None:
        raise ValueError("the crop has no crop_box; it must come from crop_face")
    h, w = full.image.shape[:2]
    scale = _scale(h, w)
    out_w, out_h = composite_size(full)
    base = full.image if scale == 1.0 else cv2.resize(full.image, (int(w * scale), int(h * scale)),
                                                       interpolation=cv2.INTER_AREA)
    base = np.ascontiguousarray(base[:out_h, :out_w])
    x0, y0, side = (float(v) * scale for v in crop.crop_box)
    size = crop.image.shape[0]
    # the region of the output the crop covers
    rx0, ry0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
    rx1, ry1 = min(int(np.ceil(x0 + side)), out_w), min(int(np.ceil(y0 + side)), out_h)
    if rx1 <= rx0 or ry1 <= ry0:
        raise ValueError("the crop lies outside the picture")
    k = side / size
    # crop pixel centres (i + 0.5) map to output (x0 + (i + 0.5) k) -> pixel centre coordinates
    affine = np.array([[k, 0.0, x0 - rx0 + 0.5 * k - 0.5], [0.0, k, y0 - ry0 + 0.5 * k - 0.5]])
    roi_size = (rx1 - rx0, ry1 - ry0)
    alpha = cv2.warpAffine(_feather(size), affine, roi_size, flags=cv2.INTER_LINEAR, borderValue=0.0)
    background = base[ry0:ry1, rx0:rx1]
    inner, ring = _split(alpha)
    weights = [(np.ascontiguousarray(alpha[r]), np.ascontiguousarray(1.0 - alpha[r])) for r in ring]
    # an integer box: the paste is a plain resize (4-5x faster than warpAffine, same mapping)
    aligned = all(abs(v - round(v)) < 1e-3 for v in (x0, y0, side))
    for frame in frames:
        if aligned:
            n, ox, oy = int(round(side)), rx0 - int(round(x0)), ry0 - int(round(y0))
            pasted = cv2.resize(frame, (n, n), interpolation=cv2.INTER_LINEAR)[oy: oy + roi_size[1], ox: ox + roi_size[0]]
        else:  # linear either way: warpAffine treats INTER_AREA as INTER_LINEAR
            pasted = cv2.warpAffine(frame, affine, roi_size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out = base.copy()
        roi = out[ry0:ry1, rx0:rx1]
        roi[inner] = pasted[inner]  # fully inside the feather: the animated crop as it is
        for r, (a, b) in zip(ring, weights):  # the feathered band: blend with the picture
            roi[r] = cv2.blendLinear(np.ascontiguousarray(pasted[r]), np.ascontiguousarray(background[r]), a, b)
        yield out


def _split(alpha: np.ndarray) -> tuple[tuple[slice, slice], list[tuple[slice, slice]]]:
    """The rectangle where `alpha` is 1 (to within half a grey level) and the four strips around it."""
    h, w = alpha.shape
    full = alpha >= 1.0 - 1.0 / 512.0
    rows, cols = np.flatnonzero(full.any(1)), np.flatnonzero(full.any(0))
    if len(rows) and full[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1].all():
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    else:  # no solid middle: blend everything
        y0 = y1 = x0 = x1 = 0
    strips = [(slice(0, y0), slice(0, w)), (slice(y1, h), slice(0, w)),
              (slice(y0, y1), slice(0, x0)), (slice(y0, y1), slice(x1, w))]
    strips = [s for s in strips if s[0].stop > s[0].start and s[1].stop > s[1].start]
    return (slice(y0, y1), slice(x0, x1)), strips


def _scale(h: int, w: int) -> float:
    return min(1.0, MAX_OUTPUT_SIDE / float(max(h, w)))


def _feather(size: int) -> np.ndarray:
    """(size, size) float32 mask: 1 inside, smooth ramp to 0 over the outer FEATHER of each edge."""
    ramp_px = max(2.0, FEATHER * size)
    t = np.arange(size, dtype=np.float32) + 0.5
    edge = np.minimum(t, size - t) / ramp_px
    ramp = np.clip(edge, 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)  # smoothstep
    return np.outer(ramp, ramp).astype(np.float32)
