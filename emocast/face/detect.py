"""Find the main face of a portrait and its 478 MediaPipe FaceMesh landmarks (irises refined).

Three passes, each cheap on a CPU:

1. FaceMesh on the whole picture, downscaled to at most `DETECT_SIDE` pixels.
2. MediaPipe's full-range face detector on the same copy, for faces FaceMesh's own short-range
   detector misses (small or distant faces, group photos), and on overlapping tiles when the
   whole picture shows none; each new box is cropped from the full-resolution picture,
   upscaled, and FaceMesh runs on the crop.
3. The largest face is refined by running FaceMesh again on a crop around it at a good
   resolution, when the first pass saw it smaller than the picture holds it, or on a copy turned
   upright when the head lies sideways or upside down (a photo taken that way without an EXIF
   orientation). FaceMesh places an upright face on an upside-down one, so its landmarks alone
   cannot tell: both face detectors score the face crop and its half-turned copy, and the
   orientation they find more face-like wins. A picture with no face at all is tried half-turned.

Landmarks are in pixels of the given image: x = lx * W, y = ly * H, z = lz * W (MediaPipe's
normalised depth in the same scale as x; smaller is nearer the camera).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import types

import numpy as np

from emocast.errors import EmocastError
from emocast.face.geometry import NUM_LANDMARKS, FaceGeometry
from emocast.face.landmarks import eye_opening
from emocast.native_logs import quiet_native_stderr

DETECT_SIDE = 1024  # longest side of the copy the first passes run on, pixels
REFINE_SIDE = 512  # side of the square crops FaceMesh reruns on, pixels
CROP_CONTEXT = 2.2  # crop side / face extent for those reruns (FaceMesh's detector likes context)
REFINE_GAIN = 1.25  # refine when the crop would show the face this many times larger than before
MIN_DETECTION_SCORE = 0.5  # full-range detector confidence to try a box
SAME_FACE_IOU = 0.3  # boxes overlapping more than this are one face
MAX_FACES = 5  # faces FaceMesh returns per run
MAX_ROLL = 40.0  # warn when the head, once upright by quarter turns, is still tilted more than this, degrees
TURNED = {1: "on its side", 2: "upside down", 3: "on its side"}  # by quarter turns to stand it upright
ORIENTATION_SIDE = 256  # side of the face crop the orientation check scores, pixels
ORIENTATION_CONTEXT = 1.6  # that crop's side / the landmarks' larger side
ORIENTATION_MARGIN = 0.1  # the half-turned face crop must score this much more to win (two detectors summed)
MIN_EYE_OPENING = 0.12  # eye_opening below which an eye counts as closed (open: 0.18-0.45)
TILE_SPLITS = (2, 3, 5)  # tilings tried when the whole picture shows no face: longest side / n
TILE_SIDE = 512  # tiles are downscaled to at most this side for the detector, pixels

_lock = threading.Lock()  # MediaPipe graphs are not thread-safe
_models: dict[str, object] = {}


def detect_face(image: np.ndarray, source: str = "the image") -> FaceGeometry:
    """Landmarks of the largest face in `image`.

    Args:
        image: (H, W, 3) uint8 RGB portrait (from load_portrait).
        source: how to name the picture in error messages, e.g. its file name.

    Returns:
        FaceGeometry with the image (turned upright by quarter turns when the face lay sideways or
        upside down), (478, 3) float32 landmarks in its pixels, the landmark bounding box, the
        number of faces found and warnings (several faces, a turned or tilted head, closed eyes).

    Raises:
        EmocastError: no face found.
    """
    image = _check_image(image)
    height, width = image.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = _resize(image, scale)

    with _lock:
        faces = _find_faces(image, small, scale)
        if not faces:  # an upside-down face can escape every detector: try the picture half-turned
            turned = np.ascontiguousarray(image[::-1, ::-1])
            found = _find_faces(turned, np.ascontiguousarray(small[::-1, ::-1]), scale)
            faces = [(rotate_points(face, 2, turned.shape), seen) for face, seen in found]
        if not faces:
            raise EmocastError(f"no face found in {source}; use a photo where one face is clearly visible")

        # 3. the largest face, refined at a good resolution when the passes above saw it small
        faces.sort(key=lambda f: -face_extent(f[0]))
        landmarks, seen_extent = faces[0]
        extent = face_extent(landmarks)
        crop_scale = REFINE_SIDE / (CROP_CONTEXT * extent)
        turns = _upright_turns(image, landmarks)
        if turns:
            # a sideways or upside-down face: the picture is turned upright (FaceMesh fits it
            # there, and every later stage draws mouths, lids and brows with the head up)
            upright = np.ascontiguousarray(np.rot90(image, turns))
            landmarks = rotate_points(landmarks, turns, image.shape)
            refined = _mesh_on_crop(upright, landmark_box(landmarks))
            if refined is not None:
                landmarks = refined[0]
            image = upright
        elif min(crop_scale, 1.0) * extent > REFINE_GAIN * seen_extent:
            refined = _mesh_on_crop(image, landmark_box(landmarks))
            if refined is not None:
                landmarks = refined[0]

    warnings = [f"found {len(faces)} faces; animating the largest"] if len(faces) > 1 else []
    if turns:
        warnings.append(f"the face is {TURNED[turns]} in the photo; the video shows the picture turned upright")
    roll = head_roll(landmarks)
    if abs(roll) > MAX_ROLL:
        warnings.append(
            f"the head is tilted by {roll:.0f} degrees; the video keeps the tilt (straighten the photo if you want it upright)"
        )
    if max(eye_opening(landmarks)) < MIN_EYE_OPENING:
        warnings.append("the eyes look closed in the photo; the video cannot open them (use a photo with open eyes)")
    return FaceGeometry(
        image=image,
        landmarks=landmarks.astype(np.float32),
        box=landmark_box(landmarks),
        num_faces=len(faces),
        warnings=warnings,
    )


def _find_faces(image: np.ndarray, small: np.ndarray, scale: float) -> list[tuple[np.ndarray, float]]:
    """Passes 1 and 2: (landmarks in `image` pixels, extent as seen) per face; callers hold _lock."""
    # 1. FaceMesh on the whole picture
    faces = [(face / scale, face_extent(face)) for face in _run_mesh(small)]
    # 2. full-range detector: faces the first pass missed; on tiles if the picture shows none
    boxes = [tuple(v / scale for v in box) for box in _run_detector(small)]
    if not faces and not boxes:
        boxes = _tiled_boxes(image)
    for box in boxes:
        if any(_iou(box, landmark_box(f)) > SAME_FACE_IOU or _inside(f, box) for f, _ in faces):
            continue
        found = _mesh_on_crop(image, box)
        if found is not None and not any(_iou(landmark_box(found[0]), landmark_box(f)) > SAME_FACE_IOU for f, _ in faces):
            faces.append(found)
    # a face filling the whole frame can be too big for the detectors: give it a border
    if not faces:
        faces = [(face, face_extent(face) * scale) for face in _mesh_with_border(small, scale)]
    return faces


def _upright_turns(image: np.ndarray, landmarks: np.ndarray) -> int:
    """Quarter turns (counter-clockwise, as np.rot90) that stand the face at `landmarks` upright.

    The nearest quarter turn to FaceMesh's roll, or that plus a half turn: FaceMesh places an
    upright face on an upside-down one (roll near 0), and on some sideways faces its roll is 180
    degrees off (a head tilted 25 degrees in a photo turned sideways). A square crop around the
    landmarks, turned by the roll's quarter turns, and its half-turned copy are scored by both
    BlazeFace detectors (short and full range, no score floor); the copy wins only by
    ORIENTATION_MARGIN. Callers hold _lock. Measured on 21 portraits: upright sums 0.9-1.8, the
    half-turned copy 0.6-1.4, never closer than 0.25 apart; no upright portrait turned in 130 tries
    (blurred, dark, grey, small, mirrored; 25 frames of a talking head). Scoring all four quarter
    turns was worse: sideways crops of tilted heads sometimes win.
    """
    from emocast.face.crop import extract_square

    turns = int(round(head_roll(landmarks) / 90.0)) % 4
    crop, _ = extract_square(image, *_square_around(landmark_box(landmarks), ORIENTATION_CONTEXT), ORIENTATION_SIDE)
    crop = np.ascontiguousarray(np.rot90(crop, turns))
    scores = [
        sum(_best_score(name, picture) for name in ("orient_short", "orient_full"))
        for picture in (crop, np.ascontiguousarray(crop[::-1, ::-1]))
    ]
    return (turns + 2) % 4 if scores[1] > scores[0] + ORIENTATION_MARGIN else turns


def _best_score(name: str, image: np.ndarray) -> float:
    with quiet_native_stderr():
        result = _model(name).process(np.ascontiguousarray(image))
    return max((float(d.score[0]) for d in result.detections or []), default=0.0)


def head_roll(landmarks: np.ndarray) -> float:
    """In-plane head rotation in degrees: 0 upright, positive when the head leans clockwise on screen."""
    from emocast.face import landmarks as lm

    points = np.asarray(landmarks, np.float64)[:, :2]
    dx, dy = points[list(lm.LEFT_EYE)].mean(axis=0) - points[list(lm.RIGHT_EYE)].mean(axis=0)
    return float(np.degrees(np.arctan2(dy, dx)))


def rotate_points(points: np.ndarray, turns: int, shape: tuple[int, ...]) -> np.ndarray:
    """Map points of a (H, W) picture into `np.rot90(picture, turns)` (counter-clockwise quarter turns).

    Continuous coordinates, so a point's pixel is the same before and after; z is unchanged.
    """
    points = np.array(points, np.float64)
    height, width = shape[0], shape[1]
    for _ in range(turns % 4):
        points[:, 0], points[:, 1] = points[:, 1].copy(), width - points[:, 0]
        height, width = width, height
    return points


def face_extent(landmarks: np.ndarray) -> float:
    """Larger side of the landmarks' bounding box, pixels."""
    x0, y0, x1, y1 = landmark_box(landmarks)
    return max(x1 - x0, y1 - y0)


def landmark_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) bounding box of the landmarks, pixels."""
    xy = np.asarray(landmarks)[:, :2]
    return (float(xy[:, 0].min()), float(xy[:, 1].min()), float(xy[:, 0].max()), float(xy[:, 1].max()))


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        raise EmocastError(f"expected an (H, W, 3) uint8 RGB picture, got {type(image).__name__} {shape}")
    if min(image.shape[:2]) < 16:
        raise EmocastError(f"the picture is only {image.shape[1]}x{image.shape[0]} pixels; use a larger photo")
    return np.ascontiguousarray(image)


def _resize(image: np.ndarray, scale: float) -> np.ndarray:
    if scale == 1.0:
        return image
    import cv2

    height, width = image.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interpolation)


def _model(name: str):
    """Cached MediaPipe graph; callers hold _lock."""
    if name not in _models:
        os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ start-up chatter
        mp = _import_mediapipe()
        if name == "mesh":
            _models[name] = mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, refine_landmarks=True, max_num_faces=MAX_FACES, min_detection_confidence=0.5
            )
        elif name == "detector":
            _models[name] = mp.solutions.face_detection.FaceDetection(
                model_selection=1, min_detection_confidence=MIN_DETECTION_SCORE
            )
        else:  # the orientation check's scorers: every score counts
            _models[name] = mp.solutions.face_detection.FaceDetection(
                model_selection=int(name == "orient_full"), min_detection_confidence=0.01
            )
    return _models[name]


class _Deferred(types.ModuleType):
    """Stands in for a module while MediaPipe is imported; the real one is imported on first use."""

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        with _lock:  # held while the stand-ins are in sys.modules
            real = importlib.import_module(self.__name__)
        return getattr(real, attr)


def _import_mediapipe():
    """Import MediaPipe without importing matplotlib (0.8 s of a short clip's start-up).

    `mediapipe` imports all its solutions, and their drawing helpers import matplotlib.pyplot at
    import time, for a 3-D plotting function this package never calls. While MediaPipe is imported,
    stand-ins take matplotlib's place in sys.modules; they are removed right after, so any later
    `import matplotlib` is the real one, and MediaPipe's own reference imports it on first use.
    Callers hold _lock.
    """
    if "matplotlib" in sys.modules or "mediapipe" in sys.modules:
        import mediapipe

        return mediapipe
    stand_ins = {name: _Deferred(name) for name in ("matplotlib", "matplotlib.pyplot")}
    stand_ins["matplotlib"].pyplot = stand_ins["matplotlib.pyplot"]
    sys.modules.update(stand_ins)
    try:
        import mediapipe
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
    return mediapipe


def _run_mesh(image: np.ndarray) -> list[np.ndarray]:
    """FaceMesh on `image`: a (478, 3) float64 array in its pixels per face."""
    height, width = image.shape[:2]
    with quiet_native_stderr():  # MediaPipe refuses views (tiles, crops): hand it a contiguous copy
        result = _model("mesh").process(np.ascontiguousarray(image))
    faces = []
    for face in result.multi_face_landmarks or []:
        points = np.array([(p.x, p.y, p.z) for p in face.landmark], np.float64)
        if len(points) != NUM_LANDMARKS:
            continue
        faces.append(points * np.array([width, height, width]))
    return faces


def _run_detector(image: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Full-range face boxes (x0, y0, x1, y1) in `image` pixels."""
    height, width = image.shape[:2]
    with quiet_native_stderr():
        result = _model("detector").process(np.ascontiguousarray(image))
    boxes = []
    for detection in result.detections or []:
        box = detection.location_data.relative_bounding_box
        boxes.append((box.xmin * width, box.ymin * height, (box.xmin + box.width) * width, (box.ymin + box.height) * height))
    return boxes


def _tiled_boxes(image: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Full-range face boxes found on overlapping tiles (halves, then thirds of the longest side).

    The detector sees its input at 192 px and misses faces under ~5% of it; tiles make small
    faces in big group or distant shots large enough. Boxes are in `image` pixels, duplicates merged.
    """
    height, width = image.shape[:2]
    boxes: list[tuple[float, float, float, float]] = []
    for splits in TILE_SPLITS:
        tile = int(np.ceil(max(height, width) / splits * 1.3))  # 30% overlap so no face is cut
        for y0 in _tile_starts(height, tile):
            for x0 in _tile_starts(width, tile):
                patch = image[y0 : y0 + tile, x0 : x0 + tile]
                scale = min(1.0, TILE_SIDE / max(patch.shape[:2]))
                for box in _run_detector(_resize(patch, scale)):
                    box = (box[0] / scale + x0, box[1] / scale + y0, box[2] / scale + x0, box[3] / scale + y0)
                    if not any(_iou(box, other) > SAME_FACE_IOU for other in boxes):
                        boxes.append(box)
        if boxes:
            break
    return boxes


def _tile_starts(length: int, tile: int) -> list[int]:
    if tile >= length:
        return [0]
    count = int(np.ceil((length - tile) / (0.7 * tile))) + 1
    return [int(round(v)) for v in np.linspace(0, length - tile, count)]


def _square_around(box: tuple[float, float, float, float], context: float) -> tuple[int, int, int]:
    """(x0, y0, side) in pixels of the square centred on `box`, `context` times its larger side (>= 16)."""
    side = max(int(round(context * max(box[2] - box[0], box[3] - box[1]))), 16)
    return int(round((box[0] + box[2] - side) / 2)), int(round((box[1] + box[3] - side) / 2)), side


def _mesh_on_crop(image: np.ndarray, box: tuple[float, float, float, float]) -> tuple[np.ndarray, float] | None:
    """FaceMesh on a square crop around `box` (image pixels), resized to REFINE_SIDE.

    Returns (landmarks in image pixels, face extent as FaceMesh saw it) for the face nearest the
    crop centre, or None.
    """
    from emocast.face.crop import extract_square

    x0, y0, side = _square_around(box, CROP_CONTEXT)
    crop, _ = extract_square(image, x0, y0, side, REFINE_SIDE)
    faces = _run_mesh(crop)
    if not faces:
        return None
    centre = REFINE_SIDE / 2
    face = min(faces, key=lambda f: np.hypot(*(f[:, :2].mean(axis=0) - centre)))
    seen = face_extent(face)
    scale = side / REFINE_SIDE
    mapped = face * scale
    mapped[:, 0] += x0
    mapped[:, 1] += y0
    return mapped, seen


def _mesh_with_border(small: np.ndarray, scale: float) -> list[np.ndarray]:
    """FaceMesh on `small` with a mirrored border of a quarter of its size; landmarks in original pixels."""
    import cv2

    height, width = small.shape[:2]
    pad = max(height, width) // 4
    padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    faces = []
    for face in _run_mesh(padded):
        face[:, 0] -= pad
        face[:, 1] -= pad
        faces.append(face / scale)
    return faces


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _inside(landmarks: np.ndarray, box: tuple[float, ...]) -> bool:
    """Whether the detector box's centre lies within the landmarks' box (same face)."""
    x0, y0, x1, y1 = landmark_box(landmarks)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return x0 <= cx <= x1 and y0 <= cy <= y1
