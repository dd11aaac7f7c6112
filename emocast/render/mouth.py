"""The mouth interior, drawn wherever the warped inner-lip polygon is open.

The neutral mesh always has closed lips (teeth in the photo vanish under lip texture), so any
opening in a frame is drawn here: a dark cavity with a gradient, the upper teeth row fixed to the
head (hanging from the neutral upper lip line), the lower row moving with the jaw, a tongue shade
behind the lower teeth, and a shadow under the upper lip; clipped to the inner-lip polygon with
anti-aliased edges. Work is limited to the polygon's bounding box.
"""

from __future__ import annotations

import cv2
import numpy as np

from emocast.motion import topology as T

MOUTH_POLYGON = T.inner_mouth_polygon()
# The upper teeth are fixed to the skull: their tips show a little below the relaxed upper lip
# (incisal display at rest is 1-3 mm) and more only when the lip itself is raised (AU10, AU12), so a
# dropped jaw with relaxed lips (surprise) shows little upper teeth and a cavity, not a grin.
UPPER_TIP_BELOW_LIP_IOD = 0.035  # ~2 mm
UPPER_TOOTH_IOD = 0.17  # incisor crown length (~10 mm): how much a raised lip can uncover
LOWER_TOOTH_IOD = 0.085
OVERBITE_IOD = 0.035  # lower incisor tips sit this far above the upper tips when the jaw is closed
TOOTH_EDGES_IOD = (0.0, 0.085, 0.16, 0.22, 0.265)  # tooth boundaries from the midline (projected)
TEETH_RGB = np.array([236.0, 229.0, 214.0])
TONGUE_RGB = np.array([165.0, 78.0, 82.0])
MIN_OPEN_PX2 = 2.0  # polygon area (pixels^2) below which the mouth counts as closed


def mouth_area(mesh: np.ndarray) -> float:
    """Area of the inner-lip polygon of a (478, 2+) mesh in pixels^2."""
    p = np.asarray(mesh, np.float64)[MOUTH_POLYGON, :2]
    return float(0.5 * abs(np.dot(p[:, 0], np.roll(p[:, 1], 1)) - np.dot(p[:, 1], np.roll(p[:, 0], 1))))


def draw_mouth(frame: np.ndarray, mesh: np.ndarray, rest: np.ndarray, jaw_px: float, iod: float,
               lip_rgb: np.ndarray, skin_level: float) -> None:
    """Paint the mouth interior into `frame` in place.

    Args:
        frame: (H, W, 3) uint8 RGB, the warped picture.
        mesh: (478, 2+) target landmarks of this frame (pixels).
        rest: (478, 2+) the neutral mesh with this frame's head pose (pixels): carries the upper teeth.
        jaw_px: how far the jaw has dropped the lower lip centre (pixels): carries the lower teeth.
        iod: inter-ocular distance (pixels).
        lip_rgb: (3,) mean lip colour of the portrait.
        skin_level: 0..1 overall brightness of the face, to light the teeth like the skin.
    """
    if mouth_area(mesh) < MIN_OPEN_PX2:
        return
    h, w = frame.shape[:2]
    poly = np.asarray(mesh, np.float64)[MOUTH_POLYGON, :2]
    x0, y0 = np.floor(poly.min(0)).astype(int) - 2
    x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    shift = 3
    alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((poly - [x0, y0]) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(alpha, [pts], 255, lineType=cv2.LINE_AA, shift=shift)
    if not alpha.any():
        return
    a = alpha.astype(np.float32)[..., None] / 255.0
    xs = np.arange(x0, x1, dtype=np.float64)[None, :]
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]

    rest = np.asarray(rest, np.float64)
    mesh = np.asarray(mesh, np.float64)
    upper_rest = _curve(rest[list(T.LIP_INNER_UPPER), :2], xs[0])  # teeth hang from the closed lip line
    upper_lip = _curve(mesh[list(T.LIP_INNER_UPPER), :2], xs[0])
    cx = rest[[T.STOMION_UPPER, T.STOMION_LOWER], 0].mean()
    half = max(abs(rest[T.MOUTH_CORNERS[1], 0] - rest[T.MOUTH_CORNERS[0], 0]) / 2, 1.0)
    across = np.clip(np.abs(xs[0] - cx) / (half * 1.05), 0.0, 1.0)
    arch = np.sqrt(1.0 - across**2)  # teeth rows curve back: shorter and darker at the sides

    upper_tip = upper_rest + UPPER_TIP_BELOW_LIP_IOD * iod * (0.3 + 0.7 * arch)
    upper_root = upper_tip - UPPER_TOOTH_IOD * iod
    lower_tip = upper_tip + jaw_px - OVERBITE_IOD * iod + 0.05 * iod * (1.0 - arch)
    lower_root = lower_tip + LOWER_TOOTH_IOD * iod * (0.4 + 0.6 * arch)

    # cavity: dark, tinted like the lips, darkest in the middle of the opening
    depth = np.clip((ys - upper_lip[None, :]) / (0.25 * iod), 0.0, 1.0)
    cavity = (0.16 + 0.1 * np.abs(depth - 0.5)[..., None]) * lip_rgb[None, None, :] * (0.6 + 0.4 * arch[None, :, None])
    out = np.broadcast_to(cavity, (y1 - y0, x1 - x0, 3)).copy()

    # tongue behind the lower teeth
    tongue = ys > lower_tip[None, :] - 0.035 * iod
    out = np.where(tongue[..., None], TONGUE_RGB * (0.45 * skin_level + 0.15) * (0.5 + 0.5 * arch)[None, :, None], out)

    teeth_light = np.clip(0.55 + 0.5 * skin_level, 0.5, 1.05)
    gaps = np.ones_like(xs[0])
    for edge in TOOTH_EDGES_IOD:
        for sign in (-1.0, 1.0):
            gaps *= 1.0 - 0.16 * np.exp(-0.5 * ((xs[0] - cx - sign * edge * iod * (1.0 - 0.25 * (edge / 0.27))) / 0.8) ** 2)
    lower = (ys > lower_tip[None, :]) & (ys < lower_root[None, :])
    lower_shade = (0.62 * teeth_light * (0.55 + 0.45 * arch) * gaps)[None, :, None]
    out = np.where(lower[..., None], TEETH_RGB * lower_shade, out)
    upper = (ys < upper_tip[None, :]) & (ys > upper_root[None, :])
    # the upper lip shades the top of the teeth
    under_lip = np.clip((ys - upper_lip[None, :]) / (0.025 * iod), 0.0, 1.0)[..., None]
    upper_shade = (teeth_light * (0.55 + 0.45 * arch) * gaps)[None, :, None] * (0.7 + 0.3 * under_lip)
    out = np.where(upper[..., None], TEETH_RGB * upper_shade, out)

    out = cv2.GaussianBlur(out.astype(np.float32), (3, 3), 0.6)
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    frame[y0:y1, x0:x1] = np.clip(roi * (1.0 - a) + out * a, 0, 255).astype(np.uint8)


def _curve(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """y of a left-to-right contour at xs (flat beyond its ends)."""
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1])
