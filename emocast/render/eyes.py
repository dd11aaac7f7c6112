"""Sclera and iris where a raised upper lid uncovers the eyeball (post-warp eye pass).

The warp can only stretch the photo's own eye: when the upper lid rises above where it sits in
the photo (AU5 "upper lid raiser" in surprise, fear and anger; a squint taken out by the neutral
fit), the band between the lid margin and the iris is filled with stretched lid margin and lashes,
a dark smear. FACS describes the opposite: with AU5 the white of the eye shows above the iris
(Ekman, Friesen & Hager, *FACS Manual*, 2002, AU5). This pass paints that band after the warp:

- how far each upper-lid point rose *relative to the iris centre*, target minus photo, measured
  across the eye (so head roll, gaze and blinks need no special case: a closing lid gives no band);
- inside the warped eye opening only, from the lid margin down by that amount, with a soft lower
  edge and 1-pixel anti-aliased lid edges;
- white of the eye in the colour sampled from the photo's own visible sclera (per eye, lighting
  kept), shaded darker under the lid and towards the corners (the eyeball is round);
- the iris kept round: inside its circle (centre from the frame's mesh, radius from the photo's
  iris landmarks, stable) the band takes the photo's iris colour, darker at the limbus.

Per crop, once: colours and the photo's lid-to-iris distances (`EyePainter.build`). Per frame: two
small boxes around the eyes, nothing at all when no lid rose. numpy + cv2 only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emocast.motion import topology as T

MIN_RISE_IOD = 0.006  # lid rise (IOD) below which nothing is drawn (gaze jitter, speech)
FULL_RISE_IOD = 0.02  # the band is fully opaque from this rise on; thinner bands fade in (no pop)
LID_SHADOW_IOD = 0.03  # the upper lid shades the sclera below it over this depth
LID_SHADOW = 0.3  # relative darkening of the sclera right under the lid
CORNER_SHADE = 0.2  # relative darkening of the sclera at the eye corners (round eyeball)
LIMBUS_SHADE = 0.3  # the iris's outer ring is this much darker
DEFAULT_SCLERA_RGB = np.array([222.0, 214.0, 208.0])  # when the photo shows too little sclera
DEFAULT_IRIS_RGB = np.array([90.0, 70.0, 55.0])

_EYES = (
    (np.array(T.RIGHT_EYE_UPPER), np.array(T.RIGHT_EYE_LOWER), np.array(T.RIGHT_IRIS)),
    (np.array(T.LEFT_EYE_UPPER), np.array(T.LEFT_EYE_LOWER), np.array(T.LEFT_IRIS)),
)


@dataclass
class _Eye:
    upper: np.ndarray  # (9,) landmark ids, corner to corner
    lower: np.ndarray  # (9,)
    iris: np.ndarray  # (5,) centre first
    source_gap: np.ndarray  # (9,) photo: iris centre minus upper lid point, across the eye (pixels)
    radius: float  # iris radius in the photo (pixels)
    margin: float  # lid margin and lashes below the lid landmarks in the photo (pixels): kept dark
    sclera: np.ndarray  # (3,) float32 RGB
    iris_rgb: np.ndarray  # (3,) float32 RGB

    palette: np.ndarray | None = None  # (3, 2) float32: RGB = palette @ (sclera weight, iris weight)

    def __post_init__(self) -> None:
        self.palette = np.stack([self.sclera, self.iris_rgb], axis=1).astype(np.float32)


@dataclass
class EyePainter:
    """Per-crop state of the eye pass; `draw(frame, mesh)` paints one frame in place."""

    eyes: list[_Eye]
    iod: float  # inter-ocular distance of the crop (pixels)
    source_gaps: np.ndarray  # (2, 9) the photo's lid-to-iris distances (pixels), as _all_gaps gives

    @classmethod
    def build(cls, image: np.ndarray, source: np.ndarray, iod: float) -> "EyePainter":
        """Sample the photo's sclera and iris colours and its lid positions.

        Args:
            image: (H, W, 3) uint8 RGB crop (the picture the warp reads).
            source: (478, 2+) its landmarks (pixels).
            iod: inter-ocular distance (pixels).
        """
        pts = np.asarray(source, np.float64)[:, :2]
        eyes = []
        for upper, lower, iris in _EYES:
            radius = float(np.linalg.norm(pts[iris[1:]] - pts[iris[0]], axis=1).mean())
            radius = min(max(radius, 0.06 * iod), 0.13 * iod)  # anatomy: iris diameter ~11-12 mm
            sclera, iris_rgb = _sample_colours(image, pts[upper], pts[lower], pts[iris[0]], radius)
            margin = _lid_margin(image, pts[upper], pts[lower], pts[iris[0]], radius, sclera, iod)
            eyes.append(_Eye(upper, lower, iris, _gaps(pts, upper, lower, iris[0]), radius, margin, sclera, iris_rgb))
        return cls(eyes, float(iod), _all_gaps(pts))

    def draw(self, frame: np.ndarray, mesh: np.ndarray) -> None:
        """Paint the uncovered sclera and iris of both eyes into `frame` (uint8 RGB) in place.

        Args:
            frame: (H, W, 3) uint8 RGB, the warped picture.
            mesh: (478, 2+) target landmarks of this frame (pixels).
        """
        pts = np.asarray(mesh, np.float64)[:, :2]
        rises = _all_gaps(pts) - self.source_gaps  # (2, 9) both eyes at once: most frames stop here
        rises[:, [0, -1]] = 0.0  # the corners never open
        if rises.max() < MIN_RISE_IOD * self.iod:
            return
        for eye, rise in zip(self.eyes, rises):
            if rise.max() >= MIN_RISE_IOD * self.iod:
                self._draw_eye(frame, pts, eye, np.maximum(rise, 0.0))

    def _draw_eye(self, frame: np.ndarray, pts: np.ndarray, eye: _Eye, rise: np.ndarray) -> None:
        # per column (1-D): the lid curves are functions of x (a head roll of a few degrees changes
        # nothing visible), so per pixel there is only broadcasting arithmetic on a thin box
        up, lo = pts[eye.upper], pts[eye.lower]
        h, w = frame.shape[:2]
        ou, ol = np.argsort(up[:, 0]), np.argsort(lo[:, 0])
        live = rise > MIN_RISE_IOD * self.iod
        k = np.nonzero(live)[0]
        xa = float(up[max(k.min() - 1, 0), 0])
        xb = float(up[min(k.max() + 1, len(up) - 1), 0])
        x0, x1 = max(int(np.floor(min(xa, xb))), 0), min(int(np.ceil(max(xa, xb))) + 1, w)
        if x1 - x0 < 2:
            return
        xs = np.arange(x0, x1, dtype=np.float64)
        top = np.interp(xs, up[ou, 0], up[ou, 1]) + eye.margin  # the band starts below the lashes
        floor = np.interp(xs, lo[ol, 0], lo[ol, 1])
        band = np.minimum(np.interp(xs, up[ou, 0], rise[ou]), np.maximum(floor - top, 0.0))
        soft = np.maximum(1.0, 0.35 * band)  # the band fades into the stretched photo below it
        y0 = max(int(np.floor(top.min())) - 1, 0)
        y1 = min(int(np.ceil((top + band + 0.5 * soft).max())) + 2, h)
        if y1 - y0 < 1:
            return
        fade = np.clip((band - MIN_RISE_IOD * self.iod) / ((FULL_RISE_IOD - MIN_RISE_IOD) * self.iod), 0.0, 1.0)
        half = max(0.5 * abs(float(up[-1, 0] - up[0, 0])), 1.0)
        middle = 0.5 * float(up[-1, 0] + up[0, 0])
        corner = 1.0 - CORNER_SHADE * np.minimum(((xs - middle) / half) ** 2, 1.0)
        clip = np.core.umath.clip  # the ufunc: np.clip's wrapper costs more than the work on a thin box
        ys = np.arange(y0, y1, dtype=np.float32)[:, None]
        below = ys - top.astype(np.float32)  # (H, W) pixels below the band's top edge
        # 1-pixel anti-aliased top edge, soft lower edge (the band never reaches below the lower lid)
        alpha = (band.astype(np.float32) - below) * (1.0 / soft).astype(np.float32)
        np.minimum(alpha, below, out=alpha)
        alpha = clip(alpha + np.float32(0.5), 0.0, 1.0)
        alpha *= fade.astype(np.float32)
        # sclera, shaded under the lid and towards the corners
        shade = clip(below * np.float32(LID_SHADOW / (LID_SHADOW_IOD * self.iod)), 0.0, LID_SHADOW)
        shade += np.float32(1.0 - LID_SHADOW)
        shade *= corner.astype(np.float32)
        # the iris, round, centred on this frame's iris landmark: iris colour inside, darker at the limbus
        cx, cy = pts[eye.iris[0]]
        inner = np.float32(eye.radius) - np.sqrt(((xs - cx) ** 2).astype(np.float32) + (ys - np.float32(cy)) ** 2)
        inside = clip(inner + np.float32(0.5), 0.0, 1.0)
        limbus = clip(inner * np.float32(LIMBUS_SHADE / (0.3 * eye.radius)), 0.0, LIMBUS_SHADE)
        limbus += np.float32(1.0 - LIMBUS_SHADE)
        limbus *= inside
        shade -= shade * inside
        # 3 channels in one cv2 call (numpy's broadcasting over a last axis of 3 is slow)
        colour = cv2.transform(cv2.merge((shade, limbus)), eye.palette)
        roi = frame[y0:y1, x0:x1]
        blended = cv2.blendLinear(roi.astype(np.float32), colour, 1.0 - alpha, alpha)
        np.copyto(roi, blended + np.float32(0.5), casting="unsafe")


def _axes(up: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the eye (corner to corner) and across it (towards the lower lid)."""
    along = up[-1] - up[0]
    along = along / max(float(np.linalg.norm(along)), 1e-6)
    down = np.array([-along[1], along[0]])
    mid = len(up) // 2
    if (lo[mid] - up[mid]) @ down < 0.0:
        down = -down
    return along, down


def _gaps(pts: np.ndarray, upper: np.ndarray, lower: np.ndarray, centre: int) -> np.ndarray:
    """Distance across the eye from each upper-lid point down to the iris centre (pixels)."""
    up = pts[upper]
    _, down = _axes(up, pts[lower])
    return (pts[centre] - up) @ down


def _lid_margin(image: np.ndarray, up: np.ndarray, lo: np.ndarray, centre: np.ndarray, radius: float,
                sclera: np.ndarray, iod: float) -> float:
    """How far below the upper-lid landmarks the photo's dark lid margin and lashes reach (pixels).

    Measured down the columns beside the iris (where the sclera shows below the lashes): the first
    point past the darkest one whose luminance is 60% of the way back up to the sclera's."""
    h, w = image.shape[:2]
    grey = image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32) if image.ndim == 3 else image
    _, down = _axes(up, lo)
    white = float(sclera @ np.array([0.299, 0.587, 0.114]))
    steps = np.arange(0.0, 0.06 * iod, 0.5)
    found = []
    for j in range(1, len(up) - 1):
        if abs(up[j, 0] - centre[0]) < 1.15 * radius:
            continue
        depth = min(float(steps[-1]), 0.6 * float((lo[j] - up[j]) @ down))
        ray = up[j] + steps[steps <= depth, None] * down
        if len(ray) < 3:
            continue
        xs = np.clip(np.round(ray[:, 0]).astype(int), 0, w - 1)
        ys = np.clip(np.round(ray[:, 1]).astype(int), 0, h - 1)
        lum = grey[ys, xs]
        k = int(np.argmin(lum))
        if white - lum[k] < 20.0:  # no dark margin to speak of here
            found.append(0.0)
            continue
        back = np.nonzero(lum[k:] >= lum[k] + 0.6 * (white - lum[k]))[0]
        found.append(float(steps[k + back[0]]) if len(back) else float(steps[min(k + 1, len(ray) - 1)]))
    if not found:
        return 0.01 * iod
    return float(min(np.median(found), 0.04 * iod))


_UPPERS = np.stack([e[0] for e in _EYES])
_MIDS = np.stack([(e[0][len(e[0]) // 2], e[1][len(e[1]) // 2]) for e in _EYES])
_CENTRES = np.array([e[2][0] for e in _EYES])


def _all_gaps(pts: np.ndarray) -> np.ndarray:
    """(2, 9) `_gaps` of both eyes, vectorised (it runs on every frame)."""
    up = pts[_UPPERS]  # (2, 9, 2)
    along = up[:, -1] - up[:, 0]
    along /= np.maximum(np.sqrt((along**2).sum(1, keepdims=True)), 1e-6)
    down = np.stack([-along[:, 1], along[:, 0]], axis=1)
    flip = ((pts[_MIDS[:, 1]] - pts[_MIDS[:, 0]]) * down).sum(1) < 0.0
    down[flip] *= -1.0
    return ((pts[_CENTRES][:, None, :] - up) * down[:, None, :]).sum(2)


def _sample_colours(image: np.ndarray, up: np.ndarray, lo: np.ndarray, centre: np.ndarray,
                    radius: float) -> tuple[np.ndarray, np.ndarray]:
    """(sclera RGB, iris RGB) of one eye of the photo, float32; defaults where too little shows."""
    h, w = image.shape[:2]
    poly = np.concatenate([up, lo[::-1]])
    x0, y0 = np.maximum(np.floor(poly.min(0)).astype(int) - 1, 0)
    x1, y1 = np.minimum(np.ceil(poly.max(0)).astype(int) + 2, [w, h])
    if x1 - x0 < 3 or y1 - y0 < 3:
        return DEFAULT_SCLERA_RGB.astype(np.float32), DEFAULT_IRIS_RGB.astype(np.float32)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((poly - [x0, y0]) * 8).astype(np.int32)], 255, cv2.LINE_8, shift=3)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))  # off the lid margins and lashes
    patch = image[y0:y1, x0:x1].astype(np.float64)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    dist = np.hypot(xx - centre[0], yy - centre[1])
    opening = mask > 0
    iris_px = patch[opening & (dist < 0.75 * radius)]
    white_px = patch[opening & (dist > 1.15 * radius)]
    if len(white_px) >= 6:
        lum = white_px @ np.array([0.299, 0.587, 0.114])
        sclera = np.median(white_px[lum >= np.percentile(lum, 60)], axis=0)
        grey = sclera.mean()
        sclera = grey + 0.6 * (sclera - grey)  # skin and lashes bleed colour into small samples
    else:
        sclera = DEFAULT_SCLERA_RGB * min(max(float(patch.mean()) / 120.0, 0.5), 1.0)
    if len(iris_px) >= 4:
        iris_rgb = np.median(iris_px, axis=0)
    else:
        iris_rgb = DEFAULT_IRIS_RGB
    # the white of the eye is never darker than its iris, nor than about half the default
    sclera = np.maximum(sclera, np.maximum(iris_rgb + 30.0, 0.5 * DEFAULT_SCLERA_RGB))
    return np.clip(sclera, 0, 255).astype(np.float32), np.clip(iris_rgb, 0, 255).astype(np.float32)

