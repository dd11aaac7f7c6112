"""Closing upper eyelids, redrawn column by column where the warp would fold (post-warp lid pass).

The warp closes an eye by squeezing its opening (iris, catchlights, sclera) under the lowered lid;
near full closure those thin triangles turn over and the iris and its catchlights show through
the closed lid as dark dots and bright rings. Where an upper lid has come down far, this pass
redraws the eye from the lid crease to the lower lid with a 1-D map per column, which cannot fold:

- crease to upper lid: the photo's lid skin between the same two lines, stretched (the lid covers);
- upper lid to lower lid: the eyeball as in the photo, moved only with the eye corners (the
  eyeball stays in the head while the lid slides over it; at full closure a pixel or two of it
  is left, the lash line).

It fades in between CLOSE_FROM and CLOSE_FULL of the lid's travel, so the switch does not pop;
frames where no lid came down that far cost one comparison. numpy + cv2 only.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from emocast.motion import topology as T

CLOSE_FROM = 0.45  # share of the lid's travel (photo opening) where the pass starts to fade in
CLOSE_FULL = 0.75  # ... and from which it alone draws the eye
FEATHER_IOD = 0.012  # soft edge under the crease and at the corners (IOD)

_EYES = tuple((np.array(eye.upper), np.array(eye.lower), np.array(eye.crease)) for eye in T.EYES)


def lid_closure(source: np.ndarray, mesh: np.ndarray) -> list[float]:
    """Per eye, how far the upper lid's middle came down: 0 as in the photo, 1 onto the lower lid.

    Measured against the eye corners (the eyeball's place), so head motion does not count.
    """
    out = []
    for upper, lower, _ in _EYES:
        mid = len(upper) // 2
        src_gap = float(source[lower[mid], 1] - source[upper[mid], 1])
        if src_gap <= 1e-6:
            out.append(0.0)
            continue
        corners = (upper[0], upper[-1])
        src_drop = source[upper[mid], 1] - source[list(corners), 1].mean()
        tgt_drop = mesh[upper[mid], 1] - mesh[list(corners), 1].mean()
        out.append(float((tgt_drop - src_drop) / src_gap))
    return out


def draw_closing_lids(frame: np.ndarray, picture: np.ndarray, source: np.ndarray, mesh: np.ndarray,
                      iod: float, closure: list[float] | None = None) -> None:
    """Redraw the eyes whose upper lid came down past CLOSE_FROM, in place.

    Args:
        frame: (H, W, 3) uint8 RGB, the warped picture.
        picture: (H, W, 3) uint8 RGB the warp read (same size).
        source: (478, 2+) the picture's landmarks (pixels).
        mesh: (478, 2+) this frame's target landmarks (pixels).
        iod: inter-ocular distance (pixels).
        closure: lid_closure(source, mesh) when the caller has it.
    """
    source = np.asarray(source, np.float64)[:, :2]
    mesh = np.asarray(mesh, np.float64)[:, :2]
    for (upper, lower, crease), closure in zip(_EYES, closure or lid_closure(source, mesh)):
        weight = (closure - CLOSE_FROM) / (CLOSE_FULL - CLOSE_FROM)
        if weight <= 0.0:
            continue
        weight = min(weight, 1.0)
        _draw_eye(frame, picture, source, mesh, upper, lower, crease, weight * weight * (3.0 - 2.0 * weight), iod)


def _draw_eye(frame: np.ndarray, picture: np.ndarray, source: np.ndarray, mesh: np.ndarray, upper: np.ndarray,
              lower: np.ndarray, crease: np.ndarray, weight: float, iod: float) -> None:
    h, w = frame.shape[:2]
    corners = mesh[[upper[0], upper[-1]]]
    x0 = max(math.floor(corners[:, 0].min()), 0)
    x1 = min(math.ceil(corners[:, 0].max()) + 1, w)
    top = mesh[crease, 1].min()
    y0 = max(math.floor(top) - 1, 0)
    y1 = min(math.ceil(mesh[lower, 1].max()) + 2, h)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    xs = np.arange(x0, x1, dtype=np.float64)
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]
    # columns: target x -> photo x along the upper lid (head motion moves the whole eye)
    xs_src = T.contour_y(np.stack([mesh[upper, 0], source[upper, 0]], 1), xs)
    crease_t, crease_s = T.contour_y(mesh[crease], xs), T.contour_y(source[crease], xs_src)
    upper_t, upper_s = T.contour_y(mesh[upper], xs), T.contour_y(source[upper], xs_src)
    lower_t = T.contour_y(mesh[lower], xs)
    # the eyeball moves with the eye corners only
    shift = np.interp(xs, corners[:, 0], source[[upper[0], upper[-1]], 1] - corners[:, 1]) if corners[0, 0] != corners[1, 0] \
        else np.full_like(xs, source[upper[0], 1] - corners[0, 1])
    span_t = np.maximum(upper_t - crease_t, 1e-3)
    skin = crease_s + (ys - crease_t) * ((upper_s - crease_s) / span_t)
    eyeball = ys + shift
    map_y = np.where(ys <= upper_t, skin, eyeball).astype(np.float32)
    map_x = np.broadcast_to(xs_src.astype(np.float32), map_y.shape)
    redrawn = cv2.remap(picture, np.ascontiguousarray(map_x), map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    # where: between the crease (soft) and the lower lid, between the corners (soft)
    feather = max(FEATHER_IOD * iod, 1.0)
    alpha = np.clip((ys - crease_t) / feather, 0.0, 1.0) * np.clip((lower_t + 0.5 - ys), 0.0, 1.0)
    alpha *= np.clip(np.minimum(xs - corners[:, 0].min(), corners[:, 0].max() - xs) / feather, 0.0, 1.0)
    alpha = (alpha * weight).astype(np.float32)[..., None]
    roi = frame[y0:y1, x0:x1]
    np.copyto(roi, roi + alpha * (redrawn.astype(np.float32) - roi) + 0.5, casting="unsafe")

