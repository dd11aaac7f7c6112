"""AU-driven wrinkle and shading maps: appearance, not only shape.

Geometry alone does not read as emotion (shared/notes/expression-by-warping.md): a knitted brow
needs its vertical furrows, a smile its nasolabial folds and crow's feet. As game engines blend
wrinkle maps, each map here is a smooth relative-luminance field (a dark crease line with a
lighter bulge beside it) drawn once per crop in the *source* picture's pixels, placed by the
portrait's own landmarks in its face frame. Per frame the maps are mixed by the frame's AU values
and multiply the source picture before the warp, so they move with the face for free.

    brow furrow + bulge between the brows ... AU4      forehead lines ... AU1 (middle), AU2 (sides)
    crow's feet + cheek highlight ......... AU6      nasolabial folds ... AU12, AU10, AU9, AU11
    nose-bridge wrinkles .................. AU9      lip-corner shadows ... AU15, AU20
    chin boss + mentolabial crease ........ AU17     dimples ... AU14     closed-lid shade ... AU43 / blink
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emocast.motion import topology as T

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


@dataclass
class ShadingMaps:
    """Wrinkle maps of one crop, each stored only over its own bounding box."""

    maps: list[tuple[int, int, int, int, np.ndarray]]  # (y0, y1, x0, x1, (h, w) float32 relative change)
    mix: np.ndarray  # (num_maps, K) float32: map weight = mix @ channel values
    blink_mix: np.ndarray  # (num_maps,) float32: map weight per unit blink
    box: tuple[int, int, int, int]  # union of the maps' boxes (y0, y1, x0, x1)

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
        return cls(maps=maps, mix=mix, blink_mix=np.array(blink, np.float32), box=box)

    def apply(self, image: np.ndarray, channel_values: np.ndarray, blink: float = 0.0) -> np.ndarray:
        """The source picture with this frame's wrinkles (a new array; `image` is not changed).

        Args:
            image: (H, W, 3) uint8 source picture.
            channel_values: (K,) the frame's rig channel values.
            blink: 0..1 blink closure of the frame.
        """
        weights = self.mix @ np.asarray(channel_values, np.float32) + self.blink_mix * blink
        active = [(m, float(wt)) for m, wt in zip(self.maps, weights) if wt > 0.01]
        if not active:
            return image
        by0, by1, bx0, bx1 = self.box
        gain = np.ones((by1 - by0, bx1 - bx0), np.float32)
        for (y0, y1, x0, x1, field), wt in active:
            gain[y0 - by0: y1 - by0, x0 - bx0: x1 - bx0] += wt * field
        out = image.copy()
        roi = out[by0:by1, bx0:bx1]
        np.clip(gain, 0.3, 1.6, out=gain)
        out[by0:by1, bx0:bx1] = cv2.multiply(roi, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
        return out


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
                               0.011, 0.30, bulge_offset=(-s * 0.03, 0.0))
        out += self.blob((0.0, brow_v - 0.04), (0.035, 0.07), 0.05)
        inner_v = self.at([133, 362])[1]
        out += self.line([(-0.07, inner_v - 0.1), (0.0, inner_v - 0.115), (0.07, inner_v - 0.1)], 0.012, -0.1)
        # the lowered brow shades the upper lids
        for upper in (T.RIGHT_EYE_UPPER, T.LEFT_EYE_UPPER):
            out += self.blob(self.at(upper[2:7]) + np.array([0.0, -0.04]), (0.12, 0.04), -0.1)
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
            mid = (alar + corner) / 2 + np.array([s * 0.07, 0.0])
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
        for upper, crease in ((T.RIGHT_EYE_UPPER, T.RIGHT_LID_CREASE), (T.LEFT_EYE_UPPER, T.LEFT_LID_CREASE)):
            centre = (self.at(upper[2:7]) + self.at(crease[2:5])) / 2
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
