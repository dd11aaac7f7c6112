"""MotionSequence: the "animate" stage's output, small per-frame parameters plus the face's rig.

The render stage asks it for the 478-point target mesh of each frame (`mesh_at`), the mesh with
head pose only (`rest_at`, which carries the upper teeth), and the channel values that drive
the wrinkle maps. Nothing here grows with the picture size; per frame it holds a few dozen
floats, so a 10-minute clip costs well under a megabyte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emocast.motion import topology as T
from emocast.motion.rig import FaceFrame

HEAD_PIVOT = np.array([0.0, 0.6, 1.3])  # head rotation centre in the face frame (IOD): behind the nose
# A point moving towards the picture's edge keeps its motion up to BORDER_KNEE of its distance to the
# edge, then eases off, never beyond BORDER_LIMIT of it: a chin near the bottom of a tightly framed
# photo compresses the strip below it instead of folding over it (the warp's border never moves).
BORDER_KNEE = 0.5
BORDER_LIMIT = 0.8


@dataclass
class MotionSequence:
    """Per-frame motion of one face.

    Mesh coordinates are crop pixels (x, y) plus depth z in the same scale; the face frame uses
    IOD units (see motion/rig.py).
    """

    fps: float  # frames per second
    frame: FaceFrame  # the portrait's face frame (pixels <-> IOD units)
    source: np.ndarray  # (478, 3) float32 landmarks of the portrait as photographed (crop pixels)
    neutral: np.ndarray  # (478, 3) float32 the portrait relaxed to neutral, lips closed (face frame)
    channels: tuple[str, ...]  # rig channel names: AU_NAMES + viseme shapes
    basis: np.ndarray  # (K, 478, 3) float32 displacement per unit channel (face frame)
    weights: np.ndarray  # (F, K) float32 channel values per frame, 0..1 (AUs incl. speech mouth)
    lips_closed: np.ndarray  # (F,) float32 0..1 inner lips brought together (/p b m/, silence)
    pose: np.ndarray  # (F, 3) float32 pitch (chin down +), yaw (towards subject's left +), roll, radians
    translation: np.ndarray  # (F, 2) float32 head shift in crop pixels
    blink: np.ndarray  # (F,) float32 0..1 eyelid closure from blinking
    gaze: np.ndarray  # (F, 2) float32 iris offset (u, v) in IOD units
    bounds: tuple[int, int] | None = None  # (H, W) of the crop: motion eases off towards its edges

    @property
    def num_frames(self) -> int:
        return int(self.weights.shape[0])

    def channel(self, name: str) -> np.ndarray:
        """(F,) values of one channel (e.g. "AU12")."""
        return self.weights[:, self.channels.index(name)]

    def face_at(self, i: int, expression: bool = True) -> np.ndarray:
        """(478, 3) face-frame mesh of frame i before head pose (IOD units)."""
        basis, neutral = self._cached_rig()
        if not expression:
            return neutral.copy()
        w = self.weights[i].astype(np.float64)
        k43 = self.channels.index("AU43")
        w[k43] = min(1.0, w[k43] + float(self.blink[i]))
        # einsum, not `w @ basis`: a (K, 1434) matrix-vector product is big enough for OpenBLAS to wake
        # its threads, which then spin (sched_yield) between frames on the core the encoder needs
        mesh = (neutral.reshape(-1) + np.einsum("k,kn->n", w, basis)).reshape(-1, 3)
        _close_lips(mesh, float(self.lips_closed[i]))
        _no_folds(mesh)
        mesh[_IRISES, :2] += self.gaze[i] * (1.0 - min(1.0, w[k43]))
        return mesh

    def mesh_at(self, i: int) -> np.ndarray:
        """(478, 3) float32 target landmarks of frame i in crop pixels."""
        return self._posed(self.face_at(i), i)

    def rest_at(self, i: int) -> np.ndarray:
        """(478, 3) float32 neutral landmarks moved by frame i's head pose only (crop pixels)."""
        return self._posed(self._cached_rig()[1], i)

    def _posed(self, mesh: np.ndarray, i: int) -> np.ndarray:
        # rotation about the pivot, then face frame -> pixels, then the head shift: one affine map
        rot = rotation(*self.pose[i])
        linear, origin = self._cached_frame()
        matrix = rot.T @ linear
        offset = (HEAD_PIVOT - HEAD_PIVOT @ rot.T) @ linear + origin
        offset[:2] += self.translation[i]
        posed = mesh @ matrix + offset
        if self.bounds is not None:
            keep_inside(posed, self.source, self.bounds)
        return posed.astype(np.float32)

    def _cached_rig(self) -> tuple[np.ndarray, np.ndarray]:
        """(K, 478 * 3) float64 basis and (478, 3) float64 neutral, converted once (not per frame)."""
        cache = self.__dict__.get("_rig_cache")
        if cache is None or cache[0] is not self.basis or cache[1] is not self.neutral:
            basis = self.basis.astype(np.float64).reshape(len(self.basis), -1)
            cache = (self.basis, self.neutral, basis, self.neutral.astype(np.float64))
            self.__dict__["_rig_cache"] = cache
        return cache[2], cache[3]

    def _cached_frame(self) -> tuple[np.ndarray, np.ndarray]:
        """FaceFrame.to_image (an affine map) as a (3, 3) matrix and (3,) offset: p @ matrix + offset."""
        cache = self.__dict__.get("_frame_cache")
        if cache is None or cache[0] is not self.frame:
            origin = self.frame.to_image(np.zeros((1, 3)))[0]
            matrix = self.frame.to_image(np.eye(3)) - origin
            cache = (self.frame, matrix, origin)
            self.__dict__["_frame_cache"] = cache
        return cache[1], cache[2]


def keep_inside(points: np.ndarray, source: np.ndarray, bounds: tuple[int, int]) -> None:
    """Ease the motion of `points` (N, 2+) from `source` (N, 2+) off towards the edges of an (H, W)
    picture (BORDER_KNEE, BORDER_LIMIT), in place. Motion away from an edge is left alone."""
    h, w = bounds
    start = np.asarray(source, np.float64)[:, :2]
    d = points[:, :2] - start
    room = np.maximum(np.where(d > 0, np.array([w - 1.0, h - 1.0]) - start, start), 1.0)
    x = np.abs(d) / room
    over = x > BORDER_KNEE
    if over.any():
        span = BORDER_LIMIT - BORDER_KNEE
        x[over] = BORDER_KNEE + span * np.tanh((x[over] - BORDER_KNEE) / span)
        points[:, :2] = start + np.sign(d) * x * room


def rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """(3, 3) rotation in the face frame (u right, v down, z away from the camera)."""
    cp, sp, cy, sy, cr, sr = np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw), np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])  # chin down moves the nose tip down
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return rz @ ry @ rx


_IRISES = np.array(list(T.RIGHT_IRIS) + list(T.LEFT_IRIS))
_INNER_PAIRS = (np.array(T.LIP_INNER_UPPER[1:-1]), np.array(T.LIP_INNER_LOWER[1:-1]))
_EYE_PAIRS = tuple((np.array(eye.upper[1:-1]), np.array(eye.lower[1:-1])) for eye in T.EYES)


# all upper/lower contour pairs at once (lips, both lids; no landmark is in two pairs)
_FOLD_UPPER = np.concatenate([up for up, _ in (_INNER_PAIRS,) + _EYE_PAIRS])
_FOLD_LOWER = np.concatenate([lo for _, lo in (_INNER_PAIRS,) + _EYE_PAIRS])
assert len(np.unique(np.concatenate([_FOLD_UPPER, _FOLD_LOWER]))) == 2 * len(_FOLD_UPPER)


def _close_lips(mesh: np.ndarray, amount: float) -> None:
    """Bring the inner lip contours towards each other by `amount` (0..1), in place."""
    if amount <= 0.0:
        return
    up, lo = _INNER_PAIRS
    gap = mesh[lo, 1] - mesh[up, 1]
    shift = np.maximum(gap, 0.0) * amount / 2
    mesh[up, 1] += shift
    mesh[lo, 1] -= shift


def _no_folds(mesh: np.ndarray) -> None:
    """Keep upper contours above lower ones (lips, lids) so no triangle turns over, in place."""
    up, lo = _FOLD_UPPER, _FOLD_LOWER
    mid = (mesh[up, 1] + mesh[lo, 1]) / 2
    cross = mesh[up, 1] > mesh[lo, 1]
    mesh[up[cross], 1] = mid[cross]
    mesh[lo[cross], 1] = mid[cross]
