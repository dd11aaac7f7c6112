"""The mesh engine's "render" stage: portrait + MotionSequence -> RGB frames, one at a time.

    render_frames(face, motion) -> Iterator[(size, size, 3) uint8]

Per crop, once: the warp's triangulation and coarse barycentric map (render/warp.py), the
wrinkle/shading maps (render/shading.py), the lip colour and skin level. Per frame: the target
mesh, wrinkle shading of the source by the frame's AUs, the backward map, one cv2.remap, and the
mouth interior where the lips part (render/mouth.py). Memory does not grow with the clip: frames
are produced lazily and never kept. numpy + cv2 only (no torch). On two or more cores a helper
process renders part of the frames of long clips (render/helper.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from emocast.face.geometry import FaceGeometry
from emocast.motion import topology as T
from emocast.motion.sequence import MotionSequence
from emocast.render.lids import CLOSE_FROM, draw_closing_lids, lid_closure
from emocast.render.mouth import LUMA, REFERENCE_SKIN_RGB, draw_lip_line, draw_mouth, mouth_colours
from emocast.render.shading import ShadingMaps, repaints_lips
from emocast.render.warp import WarpField, warp_image


def render_frames(
    face: FaceGeometry, motion: MotionSequence, exact: bool = False, helper: bool = True
) -> Iterator[np.ndarray]:
    """Yield the animated crop frame by frame.

    Args:
        face: the crop the motion was planned on (its image is warped).
        motion: per-frame motion from plan_motion.
        exact: use the plain reference warp (several times slower; for tests and benchmarks).
        helper: on 2+ cores and long enough clips, let a second process render part of the frames
            (render/helper.py; same frames, ~1.5x faster end to end with the encoder running).

    Yields:
        (H, W, 3) uint8 RGB frames, motion.num_frames of them.
    """
    if helper:
        from emocast.render.helper import helper_frames

        frames = helper_frames(face, motion, exact=exact)
        if frames is not None:
            yield from frames
            return
    renderer = FrameRenderer(face, motion, exact=exact)
    for i in range(motion.num_frames):
        yield renderer.render(i)


class FrameRenderer:
    """Per-crop state of the renderer; `render(i)` draws frame i."""

    def __init__(self, face: FaceGeometry, motion: MotionSequence, exact: bool = False) -> None:
        self.motion = motion
        self.exact = exact
        # the neutral mesh closes the lips: whatever the photo shows between them (teeth) must never
        # leak through the seam, so it is painted over with the surrounding lip texture once
        self.image = _cover_mouth(np.ascontiguousarray(face.image, dtype=np.uint8), motion.source)
        self.iod = motion.frame.iod
        self.warp = WarpField.build(self.image.shape[:2], motion.source, self.iod)
        self.shading = ShadingMaps.build(self.image.shape[:2], motion)
        self.lip_rgb, self.skin_level, skin_rgb = _colours(self.image, motion.source)
        self.teeth_rgb, self.lower_teeth_rgb, self.tongue_rgb = mouth_colours(skin_rgb, self.skin_level, self.lip_rgb)
        # repainted lips (a laughing photo) lost their own seam: it is drawn on each frame
        self.lip_line = repaints_lips(motion.source, motion.frame, self.shading.smile)
        from emocast.render.eyes import EyePainter

        self.eyes = EyePainter.build(self.image, motion.source, self.iod)
        k26 = motion.channels.index("AU26")
        self.jaw_col = k26
        self.jaw_px_per_unit = float(motion.basis[k26, T.STOMION_LOWER, 1]) * self.iod

    def render(self, i: int) -> np.ndarray:
        """(H, W, 3) uint8 RGB frame i."""
        motion = self.motion
        mesh = motion.mesh_at(i)
        source = self.shading.apply(self.image, motion.weights[i], float(motion.blink[i]))
        targets = self.warp.vertex_targets(mesh)
        if self.exact:
            frame = warp_image(source, self.warp.backward_map(targets, exact=True))
        else:
            frame = self.warp.warp(source, targets)
        closure = lid_closure(motion.source, mesh)
        draw_closing_lids(frame, source, motion.source, mesh, self.iod, closure)  # blinks: no iris through the lid
        jaw_px = float(motion.weights[i, self.jaw_col]) * self.jaw_px_per_unit
        if self.lip_line:
            draw_lip_line(frame, mesh, self.iod, self.lip_rgb)
        draw_mouth(frame, mesh, motion.rest_at(i), jaw_px, self.iod, self.lip_rgb, self.skin_level,
                   self.teeth_rgb, self.tongue_rgb, self.lower_teeth_rgb)
        if min(closure) < CLOSE_FROM:  # closing lids uncover nothing (their iris is pushed down: no "rise")
            self.eyes.draw(frame, mesh)  # sclera where a raised upper lid uncovers the eyeball (AU5)
        return frame


def _cover_mouth(image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The picture with its open mouth (inner-lip polygon, slightly grown) inpainted from the lips."""
    poly = np.asarray(landmarks, np.float64)[T.inner_mouth_polygon(), :2]
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, shift=4)
    if not (mask > 127).any():
        return image
    mask = cv2.dilate((mask > 0).astype(np.uint8) * 255, np.ones((3, 3), np.uint8))
    x, y, w, h = cv2.boundingRect(mask)
    pad = 6
    x0, y0 = max(x - pad, 0), max(y - pad, 0)
    x1, y1 = min(x + w + pad, image.shape[1]), min(y + h + pad, image.shape[0])
    out = image.copy()
    out[y0:y1, x0:x1] = cv2.inpaint(image[y0:y1, x0:x1], mask[y0:y1, x0:x1], 3, cv2.INPAINT_TELEA)
    return out


def _colours(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Mean lip colour (RGB), the face's brightness 0..1 and mean colour (cheeks), for the mouth interior."""
    h, w = image.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    lower = np.asarray(landmarks, np.float64)[list(T.LIP_OUTER_LOWER) + list(T.LIP_INNER_LOWER[::-1]), :2]
    cv2.fillPoly(mask, [np.round(lower).astype(np.int32)], 255)
    lip = image[mask > 0].reshape(-1, 3)
    lip_rgb = lip.mean(0) if len(lip) else np.array([170.0, 90.0, 90.0])
    cheeks = np.asarray(landmarks, np.float64)[list(T.CHEEK), :2]
    r = max(2, int(0.03 * np.linalg.norm(cheeks[1] - cheeks[0])))
    values = []
    for x, y in np.round(cheeks).astype(int):
        patch = image[max(y - r, 0): y + r + 1, max(x - r, 0): x + r + 1]
        if patch.size:
            values.append(patch.reshape(-1, 3).mean(0))
    skin_rgb = np.mean(values, axis=0) if values else REFERENCE_SKIN_RGB * (150.0 / float(REFERENCE_SKIN_RGB @ LUMA))
    luminance = float(skin_rgb @ LUMA)
    return lip_rgb.astype(np.float64), float(np.clip(luminance / 200.0, 0.2, 1.0)), skin_rgb.astype(np.float64)
