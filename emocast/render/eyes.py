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
from emocast.render.mouth import LUMA, LUMA_F32

MIN_RISE_IOD = 0.006  # lid rise (IOD) below which nothing is drawn (gaze jitter, speech)
FULL_RISE_IOD = 0.02  # the band is fully opaque from this rise on; thinner bands fade in (no pop)
LID_SHADOW_IOD = 0.03  # the upper lid shades the sclera below it over this depth
LID_SHADOW = 0.3  # relative darkening of the sclera right under the lid
CORNER_SHADE = 0.2  # relative darkening of the sclera at the eye corners (round eyeball)
LIMBUS_SHADE = 0.3  # the iris's outer ring is this much darker
DEFAULT_SCLERA_RGB = np.array([222.0, 214.0, 208.0])  # when the photo shows too little sclera
DEFAULT_IRIS_RGB = np.array([90.0, 70.0, 55.0])

_EYES = tuple((np.array(eye.upper), np.array(eye.lower), np.array(eye.iris)) for eye in T.EYES)


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


@dataclass
class EyePainter:
    """Per-crop state of the eye pass; `draw(frame, mesh)` paints one frame in place."""

    eyes: list[_Eye]
    iod: float  # inter-ocular distance of the crop (pixels)
    source_gaps: np.ndarray  # (2, 9) the photo's lid-to-iris distances (pixels), as _all_gaps gives
    side: np.ndarray  # (2, 2) per eye: (a_y, a_x) * side is "down" across the eye (a = corner to corner)

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
        return cls(eyes, float(iod), _all_gaps(pts), _sides(pts))

    def draw(self, frame: np.ndarray, mesh: np.ndarray) -> None:
        """Paint the uncovered sclera and iris of both eyes into `frame` (uint8 RGB) in place.

        Args:
            frame: (H, W, 3) uint8 RGB, the warped picture.
            mesh: (478, 2+) target landmarks of this frame (pixels).
        """
        pts = np.asarray(mesh)[:, :2]
        lid = pts[_GAP_IDX]  # (2, 10, 2): each eye's upper lid, corner to corner, then its iris centre
        along = lid[:, 8] - lid[:, 0]
        cross = np.matmul(lid, (along[:, ::-1] * self.side)[:, :, None])[..., 0]  # across the eye x |along|
        rises = (cross[:, 9:] - cross[:, :9]) / np.sqrt((along * along).sum(1, keepdims=True)) - self.source_gaps
        least = MIN_RISE_IOD * self.iod
        if rises[:, 1:-1].max() < least:  # most frames stop here (the corners never open)
            return
        rises[:, [0, -1]] = 0.0
        h, w = frame.shape[:2]
        boxes = []
        for e, (rise, ux) in enumerate(zip(rises.tolist(), lid[:, :9, 0].tolist())):
            k = [j for j, v in enumerate(rise) if v > least]  # the rising lid points, one more each side
            if not k:
                continue
            xa, xb = ux[max(k[0] - 1, 0)], ux[min(k[-1] + 1, len(ux) - 1)]
            x0, x1 = max(int(np.floor(min(xa, xb))), 0), min(int(np.ceil(max(xa, xb))) + 1, w)
            if x1 - x0 >= 2:
                boxes.append((e, x0, x1))
        if len(boxes) == 2 and not (boxes[0][2] <= boxes[1][1] or boxes[1][2] <= boxes[0][1]):
            for box in boxes:  # overlapping boxes (never on a face; kept correct): one eye at a time
                self._paint(frame, pts, rises, [box])
        elif boxes:
            self._paint(frame, pts, rises, boxes)

    def __post_init__(self) -> None:
        # per crop: landmark ids, margins, radii and colours of both eyes as arrays (fewer numpy calls per frame)
        self._upper = np.stack([eye.upper for eye in self.eyes])
        self._lower = np.stack([eye.lower for eye in self.eyes])
        self._centre = np.array([eye.iris[0] for eye in self.eyes])
        self._margin = np.array([[eye.margin] for eye in self.eyes])
        self._radius = np.array([eye.radius for eye in self.eyes], np.float32)[:, None, None]
        self._palettes: dict[tuple[int, ...], list[np.ndarray]] = {}

    def _palette(self, sel: tuple[int, ...]) -> list[np.ndarray]:
        """[sclera R, iris R, sclera G, iris G, sclera B, iris B] of the eyes `sel`, each (n, 1, 1) float32."""
        if sel not in self._palettes:
            cols = np.array([[self.eyes[e].sclera, self.eyes[e].iris_rgb] for e in sel], np.float32)  # (n, 2, 3)
            self._palettes[sel] = [np.ascontiguousarray(cols[:, k, c, None, None]) for c in range(3) for k in range(2)]
        return self._palettes[sel]

    def _paint(self, frame: np.ndarray, pts: np.ndarray, rises: np.ndarray, boxes: list) -> None:
        """The eyes' bands as one stack of equal boxes (half the numpy calls of one eye at a time).

        Per column (1-D): the lid curves are functions of x (a head roll of a few degrees changes
        nothing visible); per pixel only float32 broadcasting arithmetic on the thin boxes."""
        h, w = frame.shape[:2]
        boxes = sorted(boxes, key=lambda b: b[1])  # left to right in the picture
        n = len(boxes)
        width = max(b[2] - b[1] for b in boxes)
        starts = []
        for j, (_, x0, x1) in enumerate(boxes):  # widen the narrower box away from the other eye:
            if x1 - x0 < width:  # the extra columns get no band (fade 0 below)
                if j == 0 and n == 2:
                    x0 = max(x1 - width, 0)
                x0 = min(x0, w - width)
            starts.append(x0)
        sel = tuple(b[0] for b in boxes)
        # the lid curves of all boxes in one np.interp each: box j's x shifted by j * _SHIFT keeps the
        # knots increasing; between two eyes it interpolates corner (rise 0) to corner
        shift = _SHIFT[:n]
        up, lo = pts[self._upper[sel, :]], pts[self._lower[sel, :]]  # (n, 9, 2)
        ux, lx = (up[..., 0] + shift).ravel(), (lo[..., 0] + shift).ravel()
        ou, ol = np.argsort(ux), np.argsort(lx)
        ux = ux[ou]
        xs = np.array(starts, np.float64)[:, None] + np.arange(width)  # (n, width)
        xq = (xs + shift).ravel()
        top = np.interp(xq, ux, (up[..., 1] + self._margin[sel, :]).ravel()[ou])  # the band starts below the lashes
        floor = np.interp(xq, lx[ol], lo[..., 1].ravel()[ol])
        band = np.interp(xq, ux, np.maximum(rises[sel, :], 0.0).ravel()[ou])
        np.minimum(band, np.maximum(floor - top, 0.0), out=band)
        soft = np.maximum(0.35 * band, 1.0)  # the band fades into the stretched photo below it
        top, band, soft = top.reshape(n, width), band.reshape(n, width), soft.reshape(n, width)
        y0s = np.maximum(np.floor(top.min(1)).astype(int) - 1, 0)
        y1s = np.minimum(np.ceil((top + band + 0.5 * soft).max(1)).astype(int) + 2, h)
        height = int((y1s - y0s).max())
        if height < 1:
            return
        y0s = np.minimum(y0s, h - height)  # the extra rows lie below the band (or above: no band)
        ends = up[:, [0, -1], 0]  # (n, 2) corner x
        half = np.maximum(0.5 * np.abs(ends[:, 1:] - ends[:, :1]), 1.0)
        rel = (xs - 0.5 * (ends[:, :1] + ends[:, 1:])) / half

        f32 = np.float32
        clip = np.core.umath.clip  # the ufunc: np.clip's wrapper costs more than the work on a thin box
        col = (n, 1, width)  # per-column values against (n, height, width) pixels
        fade = clip((band - MIN_RISE_IOD * self.iod) * (1.0 / ((FULL_RISE_IOD - MIN_RISE_IOD) * self.iod)), 0.0, 1.0)
        for j, (_, x0, x1) in enumerate(boxes):  # nothing in a widened box's extra columns
            fade[j, :x0 - starts[j]] = 0.0
            fade[j, x1 - starts[j]:] = 0.0
        corner = (1.0 - CORNER_SHADE * np.minimum(rel * rel, 1.0)).astype(f32).reshape(col)
        ys = (y0s.astype(f32)[:, None, None] + np.arange(height, dtype=f32)[:, None])  # (n, height, 1)
        below = ys - top.astype(f32).reshape(col)  # pixels below the band's top edge
        # 1-pixel anti-aliased top edge, soft lower edge (the band never reaches below the lower lid)
        alpha = (band.astype(f32).reshape(col) - below) * (1.0 / soft).astype(f32).reshape(col)
        np.minimum(alpha, below, out=alpha)
        alpha += f32(0.5)
        clip(alpha, f32(0.0), f32(1.0), out=alpha)
        alpha *= fade.astype(f32).reshape(col)
        # sclera, shaded under the lid (LID_SHADOW over LID_SHADOW_IOD) and towards the corners
        shade = below * (corner * f32(LID_SHADOW / (LID_SHADOW_IOD * self.iod)))
        lit = corner * f32(1.0 - LID_SHADOW)
        shade += lit
        clip(shade, lit, corner, out=shade)
        # the iris, round, centred on this frame's iris landmark: iris colour inside, darker at the limbus
        centre = pts[self._centre[sel, ]].astype(f32)  # (n, 2)
        dx = xs.astype(f32).reshape(col) - centre[:, :1, None]
        dy = ys - centre[:, 1:, None]
        radius = self._radius[sel, ]
        inner = radius - np.sqrt(dx * dx + dy * dy)
        inside = clip(inner + f32(0.5), f32(0.0), f32(1.0))
        limbus = clip(inner * (f32(LIMBUS_SHADE / 0.3) / radius), f32(0.0), f32(LIMBUS_SHADE))
        limbus += f32(1.0 - LIMBUS_SHADE)
        limbus *= inside
        shade -= shade * inside
        # the boxes stacked vertically as one (n * height, width) picture: 3 channels per cv2 call
        rows = n * height
        pal = self._palette(sel)
        colour = cv2.merge([(pal[2 * c] * shade + pal[2 * c + 1] * limbus).reshape(rows, width) for c in range(3)])
        roi = np.concatenate([frame[y0:y0 + height, x0:x0 + width] for y0, x0 in zip(y0s, starts)])
        alpha = alpha.reshape(rows, width)
        out = cv2.blendLinear(roi.astype(f32), colour, f32(1.0) - alpha, alpha)
        out += f32(0.5)  # rounded to uint8 below
        for j, (y0, x0) in enumerate(zip(y0s, starts)):
            np.copyto(frame[y0:y0 + height, x0:x0 + width], out[j * height:(j + 1) * height], casting="unsafe")


_SHIFT = np.array([[0.0], [1.0e5]])  # box j's lid knots at x + j * 1e5 (pictures are far narrower)


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
    grey = image.astype(np.float32) @ LUMA_F32 if image.ndim == 3 else image
    _, down = _axes(up, lo)
    white = float(sclera @ LUMA)
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


_GAP_IDX = np.concatenate([_UPPERS, _CENTRES[:, None]], axis=1)  # (2, 10)


def _sides(pts: np.ndarray) -> np.ndarray:
    """(2, 2) signs such that (a_y, a_x) * sign points from the upper to the lower lid, a = lid corner to corner.

    Fixed by the landmarks' order (a frame does not turn the face upside down): measured once, on the photo."""
    up = pts[_UPPERS]
    along = up[:, -1] - up[:, 0]
    down = np.stack([-along[:, 1], along[:, 0]], axis=1)
    flip = ((pts[_MIDS[:, 1]] - pts[_MIDS[:, 0]]) * down).sum(1) < 0.0
    return np.where(flip[:, None], [1.0, -1.0], [-1.0, 1.0])


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
        lum = white_px @ LUMA
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

