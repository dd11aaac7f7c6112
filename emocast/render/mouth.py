"""The mouth interior, drawn wherever the warped inner-lip polygon is open.

The neutral mesh always has closed lips (teeth in the photo vanish under lip texture), so any
opening in a frame is drawn here: a dark cavity with a gradient, the upper teeth row fixed to the
head (hanging from the neutral upper lip line), the lower row moving with the jaw, a tongue shade
behind the lower teeth, and a shadow under the upper lip; clipped to the inner-lip polygon with
anti-aliased edges. Work is limited to the polygon's bounding box.
"""

from __future__ import annotations

import math

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
TONGUE_ABOVE_TIPS_IOD = 0.07  # the tongue's visible top above the lower teeth tips, mid-mouth
TONGUE_FADE_IOD = 0.06  # from its shaded back to its lit front
OVERBITE_IOD = 0.035  # lower incisor tips sit this far above the upper tips when the jaw is closed
TOOTH_EDGES_IOD = (0.0, 0.085, 0.16, 0.22, 0.265)  # tooth boundaries from the midline (projected)
TEETH_RGB = np.array([236.0, 229.0, 214.0])  # under neutral light, beside skin like REFERENCE_SKIN_RGB
TONGUE_RGB = np.array([165.0, 78.0, 82.0])
# The photo's light and camera, read from its skin: ColorChecker's "light skin" patch (sRGB 194, 150,
# 130) is the skin the colours above were chosen beside. A photo whose skin is warmer, cooler or paler
# (at equal luma) gets teeth and tongue cast the same way, by CAST_SHARE of the per-channel ratio (a little
# of the ratio is the person's own skin, not the light), and no more colourful than the photo's skin
# (a black-and-white photo: grey teeth). Luma never changes, so neither does the grey picture.
REFERENCE_SKIN_RGB = np.array([194.0, 150.0, 130.0])
CAST_SHARE = 0.75
LUMA = np.array([0.299, 0.587, 0.114])  # Rec. 601 luma weights (the render stage's one copy)
LUMA_F32 = LUMA.astype(np.float32)
# Teeth in the mouth's shade are lit by light bounced off the lips and the cavity, not by the room:
# the lower row (in the upper lip's and the cavity's shadow) takes this share of the lips' hue, at
# equal luma (a grey band of lower teeth beside warm skin reads blue).
SHADED_TEETH_WARMTH = 0.35
MIN_OPEN_PX2 = 2.0  # polygon area (pixels^2) below which the mouth counts as closed
# ... and its mean height (area / width): closed contours that do not quite meet leave a sliver whose
# anti-aliased edges would be drawn as a grey seam with teeth
MIN_OPEN_GAP_PX = 0.5
LIP_LINE_IOD = 0.012  # width of the line where closed lips meet (drawn only on repainted lips)
LIP_LINE_SHADE = 0.5  # its colour: the lip colour times this
LIP_LINE_OPACITY = 0.75
LIP_LINE_FADE_IOD = 0.03  # the line is gone where the lips are this far apart


_POLYGON_INDEX = np.array(MOUTH_POLYGON)
OUTLINE_STEPS = 4  # curve points per contour segment of the drawn opening
# tooth boundaries as offsets from the midline in IOD, both sides (the arch shortens the far ones)
_GAP_OFFSETS_IOD = np.array([sign * e * (1.0 - 0.25 * (e / 0.27)) for e in TOOTH_EDGES_IOD for sign in (-1.0, 1.0)])
_LIP_UPPER = list(T.LIP_INNER_UPPER)
_LIP_LOWER = list(T.LIP_INNER_LOWER)


def mouth_outline(mesh: np.ndarray) -> np.ndarray:
    """(N, 2) float64 outline of the opening: the inner lip contours of a (478, 2+) pixel mesh as
    Catmull-Rom curves through their points (OUTLINE_STEPS per segment), the corners kept sharp.

    The 11-point contours joined by straight segments drew an angular opening at 512 px."""
    poly = np.asarray(mesh, np.float64)[_POLYGON_INDEX, :2]
    upper = poly[: len(_LIP_UPPER)]
    lower = np.concatenate([poly[len(_LIP_UPPER) - 1:], poly[:1]])  # left corner -> right corner
    return np.concatenate([_catmull_rom(upper)[:-1], _catmull_rom(lower)[:-1]])


def _catmull_rom(points: np.ndarray) -> np.ndarray:
    """Uniform Catmull-Rom curve through `points` (n, 2), ends clamped: (OUTLINE_STEPS * (n - 1) + 1, 2)."""
    p = np.concatenate([points[:1], points, points[-1:]])
    t = np.linspace(0.0, 1.0, OUTLINE_STEPS, endpoint=False)[:, None, None]
    p0, p1, p2, p3 = p[:-3][None], p[1:-2][None], p[2:-1][None], p[3:][None]
    curve = 0.5 * (2 * p1 + (p2 - p0) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (3 * p1 - p0 - 3 * p2 + p3) * t**3)
    return np.concatenate([curve.transpose(1, 0, 2).reshape(-1, 2), points[-1:]])


def mouth_area(mesh: np.ndarray) -> float:
    """Area of the inner-lip polygon of a (478, 2+) mesh in pixels^2."""
    return _area(np.asarray(mesh, np.float64)[_POLYGON_INDEX, :2])


def mouth_is_open(mesh: np.ndarray) -> bool:
    """Whether the lips of a (478, 2+) pixel mesh are apart enough to draw the mouth interior."""
    mesh = np.asarray(mesh, np.float64)
    area = _area(mesh[_POLYGON_INDEX, :2])
    width = max(float(np.linalg.norm(mesh[T.INNER_CORNERS[1], :2] - mesh[T.INNER_CORNERS[0], :2])), 1.0)
    return area >= MIN_OPEN_PX2 and area / width >= MIN_OPEN_GAP_PX


def draw_lip_line(frame: np.ndarray, mesh: np.ndarray, iod: float, lip_rgb: np.ndarray) -> None:
    """Draw the line where closed lips meet, along the upper inner lip contour, in place.

    For portraits whose lips were repainted (render/shading.py: a laughing mouth): their own seam
    is gone, and a painted one would not land on the closed mouth's seam. The line fades out where
    the lips part (there the mouth interior is drawn instead).
    """
    mesh = np.asarray(mesh, np.float64)
    pts = mesh[_LIP_UPPER, :2]
    h, w = frame.shape[:2]
    x0, y0 = max(math.floor(pts[:, 0].min()) - 3, 0), max(math.floor(pts[:, 1].min()) - 3, 0)
    x1, y1 = min(math.ceil(pts[:, 0].max()) + 4, w), min(math.ceil(pts[:, 1].max()) + 4, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    xs = np.arange(x0, x1, dtype=np.float64)
    gap = T.contour_y(mesh[_LIP_LOWER, :2], xs) - T.contour_y(pts, xs)  # per column, pixels
    closed = np.clip(1.0 - gap / max(LIP_LINE_FADE_IOD * iod, 1.0), 0.0, 1.0).astype(np.float32)
    if not closed.any():
        return
    shift = 3
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    line = np.round((pts - [x0, y0]) * (1 << shift)).astype(np.int32)
    cv2.polylines(mask, [line], False, 255, max(1, round(LIP_LINE_IOD * iod)), cv2.LINE_AA, shift)
    a = mask.astype(np.float32) * (np.float32(LIP_LINE_OPACITY / 255.0) * closed)[None, :]
    roi = frame[y0:y1, x0:x1]
    colour = np.empty(roi.shape, np.float32)
    colour[...] = np.asarray(lip_rgb, np.float32) * np.float32(LIP_LINE_SHADE)
    np.copyto(roi, cv2.blendLinear(roi.astype(np.float32), colour, 1.0 - a, a), casting="unsafe")


def _area(p: np.ndarray) -> float:
    return float(cv2.contourArea(p.astype(np.float32)))


def lit_colour(rgb: np.ndarray, skin_rgb: np.ndarray, max_channel: float = 255.0) -> np.ndarray:
    """`rgb`, a colour chosen beside REFERENCE_SKIN_RGB, as it would look in a photo whose skin is `skin_rgb`.

    Same luma (0.299 R + 0.587 G + 0.114 B) as `rgb`; no channel above `max_channel` or below 0 (the
    cast is backed off toward `rgb` until it fits)."""
    base = np.asarray(rgb, np.float64)
    skin = np.maximum(np.asarray(skin_rgb, np.float64), 1.0)
    ref = REFERENCE_SKIN_RGB
    cast = ((skin / (skin @ LUMA)) / (ref / (ref @ LUMA))) ** CAST_SHARE
    out = base * cast
    luma = base @ LUMA
    out *= luma / (out @ LUMA)
    # no more colourful than the photo: chroma scaled by the skin's saturation relative to the reference's
    saturation = np.linalg.norm(skin - skin @ LUMA) / (skin @ LUMA)
    ratio = min(saturation / (np.linalg.norm(ref - ref @ LUMA) / (ref @ LUMA)), 1.0)
    out = luma + ratio * (out - luma)
    step = out - base  # equal luma all along base + t * step
    t = 1.0
    for c in range(3):
        if out[c] > max_channel and step[c] > 0:
            t = min(t, (max_channel - base[c]) / step[c])
        elif out[c] < 0.0 and step[c] < 0:
            t = min(t, -base[c] / step[c])
    return base + max(t, 0.0) * step


def shaded_colour(rgb: np.ndarray, light_rgb: np.ndarray, share: float) -> np.ndarray:
    """`rgb` lit partly (`share`) by light of `light_rgb`'s hue, at the same luma: (3,) float64."""
    base = np.asarray(rgb, np.float64)
    light = np.maximum(np.asarray(light_rgb, np.float64), 1.0)
    out = base * ((1.0 - share) + share * light / (light @ LUMA))
    return out * ((base @ LUMA) / max(out @ LUMA, 1e-6))


def teeth_light(skin_level: float) -> float:
    """Brightness of the teeth (times TEETH_RGB) on a face of brightness `skin_level` (0..1)."""
    return min(max(0.55 + 0.5 * skin_level, 0.5), 1.05)


def mouth_colours(skin_rgb: np.ndarray, skin_level: float,
                  lip_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(teeth, lower teeth, tongue) RGB in the light of a photo whose cheeks are `skin_rgb` and lips
    `lip_rgb`: once per crop."""
    # the brightest teeth pixel is the teeth colour times teeth_light
    teeth = lit_colour(TEETH_RGB, skin_rgb, 254.0 / teeth_light(skin_level))
    return teeth, shaded_colour(teeth, lip_rgb, SHADED_TEETH_WARMTH), lit_colour(TONGUE_RGB, skin_rgb, 254.0)


def _coverage(ys: np.ndarray, top: np.ndarray, bottom: np.ndarray | None = None) -> np.ndarray:
    """(rows, cols) float32 share of each pixel's height (row y spans y - 0.5 .. y + 0.5) between
    the per-column lines `top` and `bottom` (None: no bottom edge)."""
    row_top = ys.astype(np.float32) - np.float32(0.5)
    top = top.astype(np.float32)
    cover = np.maximum(top, row_top)
    np.subtract(row_top + np.float32(1.0), cover, out=cover)
    if bottom is not None:
        bottom = bottom.astype(np.float32)
        np.minimum(cover, bottom - row_top, out=cover)
        np.minimum(cover, bottom - top, out=cover)
    np.clip(cover, 0.0, 1.0, out=cover)
    return cover


def _tint(shade: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """(rows, cols, 3) float32: a brightness field times a colour."""
    return cv2.cvtColor(np.ascontiguousarray(shade, np.float32), cv2.COLOR_GRAY2RGB) * np.asarray(rgb, np.float32)


def _over(base: np.ndarray, layer: np.ndarray, cover: np.ndarray) -> None:
    """base += cover * (layer - base), in place (the layer in front where it covers the pixel)."""
    layer -= base
    layer *= cv2.cvtColor(cover, cv2.COLOR_GRAY2RGB)
    base += layer


def draw_mouth(frame: np.ndarray, mesh: np.ndarray, rest: np.ndarray, jaw_px: float, iod: float,
               lip_rgb: np.ndarray, skin_level: float, teeth_rgb: np.ndarray = TEETH_RGB,
               tongue_rgb: np.ndarray = TONGUE_RGB, lower_teeth_rgb: np.ndarray | None = None) -> None:
    """Paint the mouth interior into `frame` in place.

    Only the inner-lip polygon's bounding box is touched. Four layers, each a colour times a float32
    brightness (cavity tinted like the lips, tongue, lower teeth, upper teeth), are laid back to
    front, each by the share of a pixel's height it covers.

    Args:
        frame: (H, W, 3) uint8 RGB, the warped picture.
        mesh: (478, 2+) target landmarks of this frame (pixels).
        rest: (478, 2+) the neutral mesh with this frame's head pose (pixels): carries the upper teeth.
        jaw_px: how far the jaw has dropped the lower lip centre (pixels): carries the lower teeth.
        iod: inter-ocular distance (pixels).
        lip_rgb: (3,) mean lip colour of the portrait.
        skin_level: 0..1 overall brightness of the face, to light the teeth like the skin.
        teeth_rgb, tongue_rgb, lower_teeth_rgb: their colours (mouth_colours: cast like the photo;
            default as chosen, the lower row lit by the lips as mouth_colours does).
    """
    mesh = np.asarray(mesh, np.float64)
    if not mouth_is_open(mesh):
        return
    poly = mouth_outline(mesh)
    h, w = frame.shape[:2]
    (lo_x, lo_y), (hi_x, hi_y) = poly.min(0).tolist(), poly.max(0).tolist()
    x0, y0 = max(math.floor(lo_x) - 2, 0), max(math.floor(lo_y) - 2, 0)
    x1, y1 = min(math.ceil(hi_x) + 3, w), min(math.ceil(hi_y) + 3, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    shift = 3
    alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
    pts = np.round((poly - [x0, y0]) * (1 << shift)).astype(np.int32)
    cv2.fillPoly(alpha, [pts], 255, lineType=cv2.LINE_AA, shift=shift)
    if not alpha.any():
        return
    xs = np.arange(x0, x1, dtype=np.float64)
    ys = np.arange(y0, y1, dtype=np.float64)[:, None]

    # per column (1-D, float64): lip lines, teeth rows, shading along the arch
    rest = np.asarray(rest, np.float64)
    upper_rest = T.contour_y(rest[_LIP_UPPER, :2], xs)  # teeth hang from the closed lip line
    upper_lip = T.contour_y(mesh[_LIP_UPPER, :2], xs)
    cx = 0.5 * (float(rest[T.STOMION_UPPER, 0]) + float(rest[T.STOMION_LOWER, 0]))
    half = max(abs(rest[T.MOUTH_CORNERS[1], 0] - rest[T.MOUTH_CORNERS[0], 0]) / 2, 1.0)
    across = np.minimum(np.abs(xs - cx) / (half * 1.05), 1.0)
    arch = np.sqrt(1.0 - across**2)  # teeth rows curve back: shorter and darker at the sides
    upper_tip = upper_rest + UPPER_TIP_BELOW_LIP_IOD * iod * (0.3 + 0.7 * arch)
    upper_root = upper_tip - UPPER_TOOTH_IOD * iod
    lower_tip = upper_tip + jaw_px - OVERBITE_IOD * iod + 0.05 * iod * (1.0 - arch)
    lower_root = lower_tip + LOWER_TOOTH_IOD * iod * (0.4 + 0.6 * arch)
    # dark lines between the teeth; beyond 8 sigma a gap changes nothing (and exp would underflow slowly)
    z2 = ((xs - cx - _GAP_OFFSETS_IOD[:, None] * iod) * (1.0 / 0.8)) ** 2
    gaps = np.prod(1.0 - 0.16 * np.exp(-0.5 * np.minimum(z2, 64.0)), axis=0)
    teeth_col = teeth_light(skin_level) * (0.55 + 0.45 * arch) * gaps
    tongue_col = ((0.45 * skin_level + 0.15) * (0.5 + 0.5 * arch)).astype(np.float32)

    # per pixel (2-D, float32): back to front, cavity, tongue, lower teeth, upper teeth, each layer
    # over the ones behind it by the share of the pixel's height it covers (anti-aliased edges:
    # a tooth row's edge crosses pixel rows at a slant and would otherwise step)
    below_lip = (ys - upper_lip).astype(np.float32)  # pixels below the (moving) upper lip line
    depth = below_lip * np.float32(1.0 / (0.25 * iod))  # cavity: darkest mid-opening
    np.maximum(depth, 0.0, out=depth)
    np.minimum(depth, 1.0, out=depth)
    depth -= 0.5
    np.abs(depth, out=depth)
    depth *= 0.1
    depth += 0.16
    out = _tint(depth * (0.6 + 0.4 * arch).astype(np.float32), lip_rgb)
    # the tongue lies behind the lower teeth, domed (highest mid-mouth); its back, higher in the
    # picture, is in the cavity's shadow
    tongue_top = lower_tip - TONGUE_ABOVE_TIPS_IOD * iod * np.sqrt(arch)
    towards_front = ((ys - tongue_top) * (1.0 / (TONGUE_FADE_IOD * iod))).astype(np.float32)
    np.maximum(towards_front, 0.0, out=towards_front)
    np.minimum(towards_front, 1.0, out=towards_front)
    towards_front *= 0.5
    towards_front += 0.5
    _over(out, _tint(towards_front * tongue_col, tongue_rgb), _coverage(ys, tongue_top))
    if lower_teeth_rgb is None:
        lower_teeth_rgb = shaded_colour(teeth_rgb, lip_rgb, SHADED_TEETH_WARMTH)
    lower_col = (0.62 * teeth_col).astype(np.float32)
    _over(out, _tint(np.broadcast_to(lower_col, out.shape[:2]), lower_teeth_rgb), _coverage(ys, lower_tip, lower_root))
    # the upper lip shades the top of the teeth
    under_lip = below_lip * np.float32(1.0 / (0.025 * iod))
    np.maximum(under_lip, 0.0, out=under_lip)
    np.minimum(under_lip, 1.0, out=under_lip)
    under_lip *= 0.3
    under_lip += 0.7
    under_lip *= teeth_col.astype(np.float32)
    _over(out, _tint(under_lip, teeth_rgb), _coverage(ys, upper_root, upper_tip))

    out = cv2.GaussianBlur(out, (3, 3), 0.6)
    a = alpha.astype(np.float32) * np.float32(1.0 / 255.0)
    roi = frame[y0:y1, x0:x1]
    blended = cv2.blendLinear(roi.astype(np.float32), out, 1.0 - a, a)
    # every colour above stays below 255 and above 0, so the blend needs no clipping
    np.copyto(roi, blended, casting="unsafe")

