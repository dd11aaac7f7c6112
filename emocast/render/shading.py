"""AU-driven wrinkle and shading maps: appearance, not only shape.

Geometry alone does not read as emotion (shared/notes/expression-by-warping.md): a knitted brow
needs its vertical furrows, a smile its nasolabial folds and crow's feet. As game engines blend
wrinkle maps, each map here is a smooth relative-luminance field (a dark crease line with a
lighter bulge beside it) drawn once per crop in the *source* picture's pixels, placed by the
portrait's own landmarks in its face frame. Per frame the maps are mixed by the frame's AU values
and multiply the source picture before the warp, so they move with the face for free.

    brow furrows between the brows ........ AU4      forehead lines ... AU1 (middle), AU2 (sides)
    crow's feet + cheek highlight ......... AU6      nasolabial folds ... AU12, AU10, AU9, AU11
    nose-bridge wrinkles .................. AU9      lip-corner shadows ... AU15, AU20
    chin boss + mentolabial crease ........ AU17     dimples ... AU14     closed-lid shade ... AU43 / blink

Before any wrinkle, the portrait's own expression is taken out of its appearance, as motion/neutral.py
takes it out of the geometry (`neutral_appearance`, once per crop): a smile's mid-scale shading
(the cheek bulge highlights, the nasolabial fold and the brackets beside the mouth corners, crow's
feet) is flattened towards the skin's low-frequency lighting (per channel, skin pixels only), and a
laughing mouth's lips are repainted as closed lips (lip colour graded across each lip, a dark line
where they meet): its landmarks are loose and teeth would leak past them. The flattened shading is
kept as one more map, driven by the frame's AU12 relative to the photo's: a frame that smiles gets
the person's own folds back.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emocast.motion import topology as T
from emocast.render.mouth import LUMA_F32

# which channels drive each map, and how much
MAP_CHANNELS: dict[str, dict[str, float]] = {
    "furrow": {"AU4": 1.0, "AU9": 0.4},
    "forehead_mid": {"AU1": 1.0},
    "forehead_side": {"AU2": 1.0},
    "crows_feet": {"AU6": 1.0, "AU7": 0.3},
    "cheek_raise": {"AU6": 1.0, "AU12": 0.4},
    "nasolabial": {"AU12": 0.7, "AU10": 1.0, "AU9": 0.7, "AU11": 0.8, "AU6": 0.3},
    "nose": {"AU9": 1.0},
    "corner_shadow": {"AU15": 1.0, "AU20": 0.3},
    "chin": {"AU17": 1.0, "AU24": 0.3},
    "dimple": {"AU14": 1.0},
    "lid_shade": {"AU43": 1.0, "blink": 1.0},
}
STRENGTH = 1.0  # global multiplier of every map (0 turns wrinkles off)
CREASE_WIDTH = 2.0  # crease widths relative to the drawn sigmas: a skin fold shades 3-5 mm, not a pen line
CREASE_DEPTH = 0.8  # and a wider fold is a little shallower


@dataclass
class ShadingMaps:
    """Wrinkle maps of one crop, each stored only over its own bounding box."""

    maps: list[tuple[int, int, int, int, np.ndarray]]  # (y0, y1, x0, x1, (h, w) float32 relative change)
    mix: np.ndarray  # (num_maps, K) float32: map weight = mix @ channel values
    blink_mix: np.ndarray  # (num_maps,) float32: map weight per unit blink
    box: tuple[int, int, int, int]  # union of the maps' boxes (y0, y1, x0, x1)
    motion: object = None  # the MotionSequence the maps were built for (source landmarks, frame)
    smile: float = 0.0  # the portrait's own smile (fitted AU12) whose appearance is removed
    _neutral: tuple | None = None  # (the source picture, its neutral-appearance copy, its own smile map or None)

    @classmethod
    def build(cls, size: tuple[int, int], motion) -> "ShadingMaps":
        """Draw the maps for a crop of (H, W) pixels from the motion's source landmarks and rig."""
        painter = _Painter(size, motion)
        maps, rows, blink = [], [], []
        for name, channels in MAP_CHANNELS.items():
            field = getattr(painter, name)()
            nz = np.argwhere(np.abs(field) > 2e-3)
            if len(nz) == 0:
                continue
            (y0, x0), (y1, x1) = nz.min(0), nz.max(0) + 1
            maps.append((int(y0), int(y1), int(x0), int(x1), np.ascontiguousarray(field[y0:y1, x0:x1] * STRENGTH)))
            rows.append([channels.get(c, 0.0) for c in motion.channels])
            blink.append(channels.get("blink", 0.0))
        if maps:
            box = (min(m[0] for m in maps), max(m[1] for m in maps), min(m[2] for m in maps), max(m[3] for m in maps))
        else:
            box = (0, 0, 0, 0)
        mix = np.array(rows, np.float32).reshape(len(maps), len(motion.channels))
        from emocast.motion.neutral import fit_source_aus

        smile = fit_source_aus(motion.frame.to_face(motion.source))["AU12"]
        return cls(maps=maps, mix=mix, blink_mix=np.array(blink, np.float32), box=box, motion=motion, smile=smile)

    def neutral_source(self, image: np.ndarray) -> np.ndarray:
        """The source picture with its own expression's appearance removed (computed once, cached)."""
        if self._neutral is None or self._neutral[0] is not image:
            self._neutral = (image, *neutral_and_smile(image, self.motion.source, self.motion.frame, self.smile))
        return self._neutral[1]

    def own_smile(self, channel_values: np.ndarray) -> tuple[tuple[int, int, int, int, np.ndarray], float] | None:
        """The photo's own smile shading (after `neutral_source`) and its weight in this frame: the
        frame's AU12 over the photo's, at most 1 (a frame smiling as much as the photo has its folds)."""
        if self._neutral is None or self._neutral[2] is None:  # no motion, or nothing was flattened
            return None
        k = self.motion.channels.index("AU12")
        weight = min(float(channel_values[k]) / max(self.smile, OWN_SMILE_FROM), 1.0)
        return (self._neutral[2], weight) if weight > 0.01 else None

    def apply(self, image: np.ndarray, channel_values: np.ndarray, blink: float = 0.0) -> np.ndarray:
        """The source picture with this frame's wrinkles (a new array; `image` is not changed).

        Args:
            image: (H, W, 3) uint8 source picture.
            channel_values: (K,) the frame's rig channel values.
            blink: 0..1 blink closure of the frame.
        """
        if self.motion is not None:
            image = self.neutral_source(image)
        weights = self.mix @ np.asarray(channel_values, np.float32) + self.blink_mix * blink
        active = [(m, float(wt)) for m, wt in zip(self.maps, weights) if wt > 0.01]
        own = self.own_smile(channel_values)
        if own is not None:
            active.append(own)
        if not active:
            return image
        # only the union of the active maps' boxes changes (elsewhere the gain is exactly 1)
        by0, by1 = min(m[0] for m, _ in active), max(m[1] for m, _ in active)
        bx0, bx1 = min(m[2] for m, _ in active), max(m[3] for m, _ in active)
        gain = np.ones((by1 - by0, bx1 - bx0), np.float32)
        for (y0, y1, x0, x1, field), wt in active:
            gain[y0 - by0: y1 - by0, x0 - bx0: x1 - bx0] += wt * field
        out = image.copy()
        roi = out[by0:by1, bx0:bx1]
        cv2.max(gain, 0.3, dst=gain)  # = np.clip(gain, 0.3, 1.6), several times faster
        cv2.threshold(gain, 1.6, 0.0, cv2.THRESH_TRUNC, dst=gain)
        roi[...] = cv2.multiply(roi, cv2.cvtColor(gain, cv2.COLOR_GRAY2RGB), dtype=cv2.CV_8U)
        return out


# flattening per unit of the photo's smile (x the spot's weight below, at most all of it): a full
# smile's shading is all gone over most of the cheeks, not 90 % at their centres only (what was left
# still read "happy" on a neutral target, however relaxed the mesh)
SMILE_FLATTEN = 2.7
# the flattened shading is given back to frames that smile, in proportion: all of it to a frame whose
# AU12 reaches the photo's (or this, for a photo that barely smiles), so a happy target gets the
# person's own folds and cheek highlights
OWN_SMILE_FROM = 0.3
FLATTEN_SIGMAS_IOD = (0.025, 0.2)  # shading between these scales counts as expression (folds, bulges)
# where a smile shades the skin: (spot, (outward, down) offset IOD, (su, sv) IOD, weight)
FLATTEN_SPOTS = (
    ("cheek", (0.0, 0.0), (0.2, 0.16), 1.0),  # the bulge over the cheekbone (AU6)
    ("fold", (0.06, 0.0), (0.12, 0.2), 1.0),  # nasolabial fold (AU12)
    ("corner", (0.05, 0.02), (0.1, 0.12), 1.0),  # the brackets beside the mouth corners
    ("crow", (0.06, 0.02), (0.1, 0.08), 0.6),  # crow's feet
)
# lips are repainted when the photo shows a laughing mouth (its landmarks are loose and teeth leak
# past them); slightly parted lips keep their own texture (the renderer already covers the gap)
REPAINT_SMILE = 0.5  # fitted source AU12
REPAINT_GAP_IOD = 0.08  # gap between the inner lip centres
SEAM_SHADE = 0.82  # repainted lips' shade (x their colour) at the seam; 0.90 at the upper lip's outer edge
LIP_COLOUR_SHARE = 0.3  # each repainted lip's colour moved this far towards the two lips' mean
LIP_CORNER_DARKEN = 0.15  # repainted lips' shade lost at the mouth corners
LIP_HIGHLIGHT = 0.06  # light caught in the middle of the repainted lower lip
LIP_FURROWS = 48  # fine furrows across the repainted lips, from corner to corner
LIP_FURROW_DEPTH = 0.05  # their relative depth


def neutral_appearance(image: np.ndarray, landmarks: np.ndarray, frame, smile: float) -> np.ndarray:
    """A copy of `image` without the appearance of its own smile and teeth.

    Args:
        image: (H, W, 3) uint8 RGB source crop.
        landmarks: (478, 2+) its landmarks (pixels).
        frame: its FaceFrame (pixels <-> IOD units).
        smile: the fitted source AU12 (0 = no smile: the picture is returned unchanged).
    """
    return neutral_and_smile(image, landmarks, frame, smile)[0]


def neutral_and_smile(image: np.ndarray, landmarks: np.ndarray, frame,
                      smile: float) -> tuple[np.ndarray, tuple[int, int, int, int, np.ndarray] | None]:
    """`neutral_appearance`, and the shading it flattened as a relative-luminance map over its box.

    The map (y0, y1, x0, x1, (h, w) float32) gives the photo's own smile back: the neutral copy
    times (1 + map) has the photo's fold shadows and cheek highlights again (in luma). None when
    nothing was flattened.
    """
    out = image
    pts = np.asarray(landmarks, np.float64)[:, :2]
    if repaints_lips(pts, frame, smile):
        out = _paint_over_teeth(out, pts, frame.iod)
    if smile <= 0.05:
        return out, None
    removed = _smile_shading(out, pts, frame, min(smile, 1.0) * SMILE_FLATTEN)
    flat = np.clip(out.astype(np.float32) - removed, 0, 255)
    field = (removed @ LUMA_F32) / np.maximum(flat @ LUMA_F32, 8.0)
    flat = flat.astype(np.uint8)
    nz = np.argwhere(np.abs(field) > 2e-3)
    if len(nz) == 0:
        return flat, None
    (y0, x0), (y1, x1) = nz.min(0), nz.max(0) + 1
    return flat, (int(y0), int(y1), int(x0), int(x1), np.ascontiguousarray(field[y0:y1, x0:x1]))


def _poly_mask(shape, polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    return mask


def _paint_over_teeth(image: np.ndarray, pts: np.ndarray, iod: float) -> np.ndarray:
    """Repaint parted lips as smooth closed lips: each lip in its own colour from the photo, graded
    across the lip, the gap between them (teeth) filled with the colour of the lip it will belong to
    once the warp closes the mouth. No line is painted here: where the lips meet in a frame is drawn
    on the frame (`draw_lip_line`), since the loose landmarks of a laughing mouth would put a
    painted line off the closed mouth's seam. The whole lip area is repainted (feathered at its
    outer edge), not only the gap."""
    h, w = image.shape[:2]
    outer = pts[list(T.LIP_OUTER_UPPER) + list(T.LIP_OUTER_LOWER[-2:0:-1])]
    x0, y0 = np.maximum(np.floor(outer.min(0)).astype(int) - 6, 0)
    x1, y1 = np.minimum(np.ceil(outer.max(0)).astype(int) + 7, [w, h])
    p = pts - [x0, y0]
    size = (y1 - y0, x1 - x0)
    lips = _poly_mask(size, p[list(T.LIP_OUTER_UPPER) + list(T.LIP_OUTER_LOWER[-2:0:-1])]).astype(np.float32) / 255.0
    inner = _poly_mask(size, p[T.inner_mouth_polygon()]) > 127
    rgb = image[y0:y1, x0:x1].astype(np.float32)
    band = (lips > 0.5) & ~inner
    if band.sum() < 10:
        return image
    redness = (rgb[..., 0] - rgb[..., 1]) / (rgb.sum(-1) + 1.0)
    ys = np.arange(size[0], dtype=np.float32)[:, None]
    stomion = (p[T.STOMION_UPPER] + p[T.STOMION_LOWER]) / 2
    a, b = p[T.MOUTH_CORNERS[0]], p[T.MOUTH_CORNERS[1]]
    mid_v = T.contour_y(np.stack([a, stomion, b]), np.arange(size[1]))[None, :]
    upper = ys < mid_v  # upper lip above the slit line through the corners and the lip centre
    # each lip's colour: the redder half of its own pixels (teeth and skin at its loose edges are not red)
    colours = []
    for part in (band & upper, band & ~upper):
        pick = part if part.sum() >= 10 else band
        reddest = pick & (redness >= np.percentile(redness[pick], 50))
        colours.append(np.median(rgb[reddest], axis=0))
    # the two lips are one tissue: a lip in shadow in the photo (a laughing upper lip) keeps part of its shade
    up_rgb, lo_rgb = ((1.0 - LIP_COLOUR_SHARE) * c + LIP_COLOUR_SHARE * (colours[0] + colours[1]) / 2 for c in colours)

    def distance_to(contour) -> np.ndarray:
        canvas = np.full(size, 255, np.uint8)
        cv2.polylines(canvas, [np.round(p[list(contour)]).astype(np.int32)], False, 0, 1)
        return cv2.distanceTransform(canvas, cv2.DIST_L2, 3)

    d_ou, d_iu = distance_to(T.LIP_OUTER_UPPER), distance_to(T.LIP_INNER_UPPER)
    d_ol, d_il = distance_to(T.LIP_OUTER_LOWER), distance_to(T.LIP_INNER_LOWER)
    t_up = d_ou / (d_ou + d_iu + 1e-3)  # 0 at the outer edge .. 1 at the inner contour
    t_lo = d_il / (d_il + d_ol + 1e-3)  # 0 at the inner contour .. 1 at the outer edge
    # one continuous shade: the upper lip a little darker towards the seam (it turns inwards), the
    # lower lip lit in its middle (rounded), the gap at the seam's level; no edge for the warp to break
    shade = np.where(upper, 0.90 - 0.10 * t_up, SEAM_SHADE + 0.14 * np.sin(np.pi * np.clip(t_lo, 0, 1)) ** 0.7)
    shade = np.where(inner, SEAM_SHADE, shade)
    # across the mouth (u: -1 .. 1 corner to corner): the lips turn in and darken towards the corners,
    # the lower lip catches the light in its middle, and fine furrows run across both lips
    half = max(float(np.linalg.norm(b - a)) / 2.0, 1.0)
    axis = (b - a) / (2.0 * half)
    xs = np.arange(size[1], dtype=np.float32)[None, :]
    u = ((xs - (a[0] + b[0]) / 2) * axis[0] + (ys - (a[1] + b[1]) / 2) * axis[1]) / half
    shade = shade * (1.0 - LIP_CORNER_DARKEN * np.clip(np.abs(u), 0.0, 1.0) ** 2.5)
    shade = shade + np.where(upper, 0.0, LIP_HIGHLIGHT * np.exp(-(u / 0.35) ** 2 - ((t_lo - 0.45) / 0.25) ** 2))
    knots = np.random.default_rng(0).standard_normal(LIP_FURROWS + 1)  # same furrows every run
    furrows = np.interp(np.clip(u, -1.0, 1.0), np.linspace(-1.0, 1.0, LIP_FURROWS + 1), knots)
    shade = shade * (1.0 + LIP_FURROW_DEPTH * np.tanh(furrows) * band)
    # each lip's own colour, blended over a wide band around the slit line (the gap's two halves)
    split = np.clip((ys - mid_v) / max(0.06 * iod, 1.0) + 0.5, 0.0, 1.0)[..., None]
    painted = shade[..., None] * (up_rgb * (1.0 - split) + lo_rgb * split)
    # keep a little of the photo's fine texture where it is lip (not teeth), for realism
    detail = rgb - cv2.GaussianBlur(rgb, (0, 0), 1.2)
    painted += 0.5 * detail * (band & (redness > 0.5 * float(np.median(redness[band]))))[..., None]
    # the upper lip's border is crisp, the lower lip fades into the skin below it
    crisp = cv2.GaussianBlur(lips, (0, 0), max(0.01 * iod, 0.7))
    soft = cv2.GaussianBlur(lips, (0, 0), max(0.018 * iod, 1.0))
    alpha = np.where(upper, crisp, soft)[..., None]
    out = image.copy()
    out[y0:y1, x0:x1] = np.clip(rgb * (1 - alpha) + painted * alpha, 0, 255).astype(np.uint8)
    return out


def repaints_lips(landmarks: np.ndarray, frame, smile: float) -> bool:
    """Whether neutral_appearance repaints this portrait's lips (a laughing mouth showing teeth)."""
    pts = np.asarray(landmarks, np.float64)[:, :2]
    gap = float(np.linalg.norm(pts[T.STOMION_LOWER] - pts[T.STOMION_UPPER])) / frame.iod
    return gap > REPAINT_GAP_IOD and smile > REPAINT_SMILE


def _smile_shading(image: np.ndarray, pts: np.ndarray, frame, amount: float) -> np.ndarray:
    """(H, W, 3) float32 mid-scale shading (fold shadows, bulge highlights) over the cheeks: what
    flattening subtracts, `amount` x each spot's weight of it, at most all of it."""
    h, w = image.shape[:2]
    iod = frame.iod
    face = frame.to_face(np.concatenate([pts, np.zeros((len(pts), 1))], 1))
    # skin only: the face oval without eyes, brows, nostrils and lips (their edges are not expression)
    skin = _poly_mask((h, w), pts[list(T.FACE_OVAL)]).astype(np.float32) / 255.0
    features = np.zeros((h, w), np.uint8)  # eyes and lips
    for ids in (T.EYES[0].ring, T.EYES[1].ring, T.LIP_OUTER_UPPER + T.LIP_OUTER_LOWER[::-1]):
        features |= _poly_mask((h, w), pts[list(ids)])
    holes = features.copy()
    for ids in (T.RIGHT_BROW_UPPER + T.RIGHT_BROW_LOWER[::-1], T.LEFT_BROW_UPPER + T.LEFT_BROW_LOWER[::-1]):
        holes |= _poly_mask((h, w), pts[list(ids)])
    for i in range(2):
        cv2.circle(holes, tuple(np.round(pts[T.NOSTRIL[i]]).astype(int)), max(2, int(0.07 * iod)), 255, -1)
    holes = cv2.dilate(holes, np.ones((3, 3), np.uint8), iterations=max(1, int(0.02 * iod)))
    oval = skin.copy()
    skin *= 1.0 - holes.astype(np.float32) / 255.0
    # the correction itself may reach the nose wings (the fold starts there), never lips or eyes
    features = cv2.GaussianBlur(cv2.dilate(features, np.ones((3, 3), np.uint8)), (0, 0), max(0.015 * iod, 0.7))
    where = oval * (1.0 - features.astype(np.float32) / 255.0)
    rgb = image.astype(np.float32)

    def masked_blur(sigma_iod: float) -> np.ndarray:
        sigma = max(sigma_iod * iod, 0.8)
        num = cv2.GaussianBlur(rgb * skin[..., None], (0, 0), sigma)
        den = cv2.GaussianBlur(skin, (0, 0), sigma)[..., None]
        return num / np.maximum(den, 1e-3)

    fine, coarse = (masked_blur(s) for s in FLATTEN_SIGMAS_IOD)
    # where: cheeks, nasolabial folds, lower lids and crow's feet (face frame positions)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = np.stack([xs - frame.origin[0], ys - frame.origin[1]], -1) / iod
    u, v = d @ frame.ex.astype(np.float32), d @ frame.ey.astype(np.float32)
    region = np.zeros((h, w), np.float32)
    for i in range(2):
        for spot, (du, dv), sigma, weight in FLATTEN_SPOTS:
            if spot == "fold":  # the nasolabial fold runs from the nose wing to beside the mouth corner
                c = (face[T.ALAR[i], :2] + face[T.MOUTH_CORNERS[i], :2]) / 2
            else:
                c = face[{"cheek": T.CHEEK[i], "corner": T.MOUTH_CORNERS[i], "crow": T.EYE_CORNERS[i][0]}[spot], :2]
            c = c + np.array([(-1, 1)[i] * du, dv])
            region = np.maximum(region, weight * np.exp(-0.5 * (((u - c[0]) / sigma[0]) ** 2 + ((v - c[1]) / sigma[1]) ** 2)))
    weight = (np.minimum(amount * region, 1.0) * where)[..., None]
    # the band between the two scales (per channel: a lightened shadow keeps the skin's hue)
    return weight * np.clip(fine - coarse, -60.0, 60.0)


class _Painter:
    """Draws each map in source pixels, positioned by the portrait's landmarks (face frame, IOD)."""

    def __init__(self, size: tuple[int, int], motion) -> None:
        self.h, self.w = size
        self.frame = motion.frame
        self.iod = motion.frame.iod
        self.face = motion.frame.to_face(motion.source)  # (478, 3) face frame of the photo
        self.sides = (-1.0, 1.0)

    # -- drawing helpers -------------------------------------------------------------------------
    def _px(self, uv) -> np.ndarray:
        uv = np.atleast_2d(np.asarray(uv, np.float64))
        return self.frame.to_image(np.concatenate([uv, np.zeros((len(uv), 1))], 1))[:, :2]

    def line(self, uv_points, sigma_iod: float, depth: float) -> np.ndarray:
        """A soft line through face-frame points: `depth` at its centre, Gaussian across."""
        canvas = np.zeros((self.h, self.w), np.float32)
        pts = self._px(_smooth_path(np.asarray(uv_points, np.float64)))
        cv2.polylines(canvas, [np.round(pts * 16).astype(np.int32)], False, 1.0, 1, cv2.LINE_AA, shift=4)
        sigma = max(sigma_iod * self.iod, 0.6)
        # a line one pixel wide blurred by sigma peaks at about 1 / (sqrt(2 pi) sigma)
        return cv2.GaussianBlur(canvas, (0, 0), sigma) * (depth * np.sqrt(2 * np.pi) * sigma)

    def blob(self, uv, sigma_iod, depth: float) -> np.ndarray:
        """A Gaussian spot of relative change `depth` (sigma_iod may be (su, sv))."""
        su, sv = (sigma_iod, sigma_iod) if np.isscalar(sigma_iod) else sigma_iod
        ys, xs = np.mgrid[0: self.h, 0: self.w].astype(np.float32)
        d = np.stack([xs - self.frame.origin[0], ys - self.frame.origin[1]], -1) / self.iod
        u = d @ self.frame.ex.astype(np.float32)
        v = d @ self.frame.ey.astype(np.float32)
        c = np.asarray(uv, np.float64)
        return (depth * np.exp(-0.5 * (((u - c[0]) / su) ** 2 + ((v - c[1]) / sv) ** 2))).astype(np.float32)

    def crease(self, uv_points, sigma_iod: float, depth: float, bulge_offset=(0.0, 0.0), bulge: float = 0.35):
        """A dark crease with a softer highlight beside it (the skin bulging over the fold)."""
        pts = np.asarray(uv_points, np.float64)
        sigma_iod, depth = sigma_iod * CREASE_WIDTH, depth * CREASE_DEPTH
        out = self.line(pts, sigma_iod, -depth)
        return out + self.line(pts + np.asarray(bulge_offset), 2.5 * sigma_iod, depth * bulge)

    def at(self, ids):
        ids = list(ids) if isinstance(ids, (tuple, list)) else [ids]
        return self.face[ids, :2].mean(0)

    # -- the maps ---------------------------------------------------------------------------------
    def furrow(self):
        brow_v = self.at([55, 285])[1]
        out = np.zeros((self.h, self.w), np.float32)
        for s in self.sides:
            out += self.crease([(s * 0.075, brow_v + 0.03), (s * 0.06, brow_v - 0.07), (s * 0.05, brow_v - 0.17)],
                               0.011, 0.30, bulge_offset=(-s * 0.03, 0.0), bulge=0.12)
        inner_v = self.at([133, 362])[1]
        out += self.line([(-0.07, inner_v - 0.1), (0.0, inner_v - 0.115), (0.07, inner_v - 0.1)], 0.012, -0.1)
        # the lowered brow shades the upper lids
        for eye in T.EYES:
            out += self.blob(self.at(eye.upper[2:7]) + np.array([0.0, -0.05]), (0.15, 0.05), -0.22)
        return out

    def _forehead(self, u_ranges):
        brow_top = min(self.at([105, 334])[1], self.at([66, 296])[1])
        out = np.zeros((self.h, self.w), np.float32)
        for k, dv in enumerate((0.12, 0.22, 0.32)):
            for a, b in u_ranges:
                us = np.linspace(a, b, 9)
                vs = brow_top - dv - 0.04 * (1.0 - (us / 0.6) ** 2)
                taper = np.sin(np.linspace(0, np.pi, 9)) ** 0.5
                for j in range(8):  # taper the ends by drawing segments of decreasing depth
                    seg = [(us[j], vs[j]), (us[j + 1], vs[j + 1])]
                    out += self.line(seg, 0.009, -0.17 * (1 - 0.2 * k) * (taper[j] + taper[j + 1]) / 2)
                    out += self.line([(x, y - 0.025) for x, y in seg], 0.016, 0.05 * (taper[j] + taper[j + 1]) / 2)
        return out

    def forehead_mid(self):
        return self._forehead([(-0.32, 0.32)])

    def forehead_side(self):
        return self._forehead([(-0.62, -0.22), (0.22, 0.62)])

    def crows_feet(self):
        out = np.zeros((self.h, self.w), np.float32)
        for (outer, _), s in zip(T.EYE_CORNERS, self.sides):
            c = self.at(outer) + np.array([s * 0.05, 0.0])
            for angle in (-0.45, -0.1, 0.3):
                d = np.array([s * np.cos(angle), np.sin(angle)])
                out += self.crease([c, c + 0.06 * d, c + 0.12 * d], 0.008, 0.2, bulge_offset=(0.0, -0.02))
        for lower in (T.RIGHT_EYE_LOWER, T.LEFT_EYE_LOWER):
            out += self.line(self.face[list(lower[1:-1]), :2] + [0.0, 0.06], 0.014, -0.09)
        return out

    def cheek_raise(self):
        out = np.zeros((self.h, self.w), np.float32)
        for i in range(2):
            out += self.blob(self.at(T.CHEEK[i]) + np.array([0.0, -0.02]), (0.12, 0.09), 0.08)
        return out

    def nasolabial(self):
        out = np.zeros((self.h, self.w), np.float32)
        for i, s in enumerate(self.sides):
            alar = self.at(T.ALAR[i]) + np.array([s * 0.04, -0.01])
            corner = self.at(T.MOUTH_CORNERS[i]) + np.array([s * 0.07, 0.03])
            mid = (alar + corner) / 2 + np.array([s * 0.04, 0.0])
            out += self.crease([alar, mid, corner], 0.014, 0.26, bulge_offset=(s * 0.035, -0.01), bulge=0.45)
        return out

    def nose(self):
        inner_v = self.at([133, 362])[1]
        out = np.zeros((self.h, self.w), np.float32)
        for dv in (0.06, 0.12, 0.18):
            out += self.crease([(-0.1, inner_v + dv + 0.015), (0.0, inner_v + dv), (0.1, inner_v + dv + 0.015)],
                               0.008, 0.22, bulge_offset=(0.0, -0.025))
        return out

    def corner_shadow(self):
        out = np.zeros((self.h, self.w), np.float32)
        for i, s in enumerate(self.sides):
            c = self.at(T.MOUTH_CORNERS[i])
            out += self.crease([c + [s * 0.02, 0.02], c + [s * 0.05, 0.1], c + [s * 0.07, 0.2]], 0.016, 0.2,
                               bulge_offset=(s * 0.03, 0.0))
        return out

    def chin(self):
        lip_v = self.at(17)[1]
        chin_v = self.at(T.CHIN)[1]
        out = self.crease([(-0.16, lip_v + 0.06), (0.0, lip_v + 0.04 + 0.25 * (chin_v - lip_v) * 0.3), (0.16, lip_v + 0.06)],
                          0.022, 0.18, bulge_offset=(0.0, 0.05))
        return out + self.blob((0.0, (lip_v + chin_v) / 2 + 0.06), (0.11, 0.07), 0.05)

    def dimple(self):
        out = np.zeros((self.h, self.w), np.float32)
        for i, s in enumerate(self.sides):
            out += self.blob(self.at(T.MOUTH_CORNERS[i]) + np.array([s * 0.07, 0.0]), (0.018, 0.03), -0.14)
        return out

    def lid_shade(self):
        out = np.zeros((self.h, self.w), np.float32)
        for eye in T.EYES:
            centre = (self.at(eye.upper[2:7]) + self.at(eye.crease[2:5])) / 2
            out += self.blob(centre, (0.11, 0.03), -0.08)
        return out


def _smooth_path(points: np.ndarray, samples: int = 24) -> np.ndarray:
    """A quadratic/Catmull-like resampling of a short polyline so creases are curves, not kinks."""
    if len(points) < 3:
        t = np.linspace(0, 1, samples)[:, None]
        return points[0] * (1 - t) + points[-1] * t
    t = np.linspace(0, 1, len(points))
    tt = np.linspace(0, 1, samples)
    deg = min(len(points) - 1, 2)
    return np.stack([np.polyval(np.polyfit(t, points[:, k], deg), tt) for k in range(2)], 1)
