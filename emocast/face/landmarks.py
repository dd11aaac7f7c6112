"""Named index sets of MediaPipe's 478-point face mesh, and a few measurements on it.

The index tuples below are derived from MediaPipe's own connection sets
(`mediapipe.python.solutions.face_mesh_connections`): each closed contour (lips, eyes, oval) is
split at its leftmost/rightmost points into an upper and a lower half, using the geometry of an
upright face. `derive_index_sets()` does that derivation; tests/face/test_landmarks.py checks
that the literals here equal its output, so nothing is guessed and importing this module does not
import mediapipe.

Conventions: "LEFT"/"RIGHT" are the subject's own (MediaPipe's naming), so in an ordinary
(not mirrored) photo LEFT_EYE is on the image's right. Every open contour is ordered from the
image's left to its right; upper and lower halves of a closed contour share their two corners.
"""

from __future__ import annotations

import numpy as np

# --- mouth (closed contours split at the mouth corners) ---
UPPER_LIP_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_LIP_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
UPPER_LIP_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_LIP_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_OUTER = UPPER_LIP_OUTER + LOWER_LIP_OUTER[-2:0:-1]  # closed ring: upper left->right, lower back
LIPS_INNER = UPPER_LIP_INNER + LOWER_LIP_INNER[-2:0:-1]
LIPS = tuple(sorted(set(LIPS_OUTER) | set(LIPS_INNER)))

# --- eyes (upper / lower lid, corners shared) ---
LEFT_EYE_UPPER = (362, 398, 384, 385, 386, 387, 388, 466, 263)
LEFT_EYE_LOWER = (362, 382, 381, 380, 374, 373, 390, 249, 263)
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE = LEFT_EYE_UPPER + LEFT_EYE_LOWER[-2:0:-1]  # closed ring
RIGHT_EYE = RIGHT_EYE_UPPER + RIGHT_EYE_LOWER[-2:0:-1]

# --- irises (refined landmarks 468-477): centre first, then the 4-point ring ---
LEFT_IRIS = (473, 474, 475, 476, 477)
RIGHT_IRIS = (468, 469, 470, 471, 472)
LEFT_IRIS_CENTER = LEFT_IRIS[0]
RIGHT_IRIS_CENTER = RIGHT_IRIS[0]

# --- brows (MediaPipe draws each brow as an upper and a lower line) ---
LEFT_BROW_UPPER = (336, 296, 334, 293, 300)
LEFT_BROW_LOWER = (285, 295, 282, 283, 276)
RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)
LEFT_BROW = LEFT_BROW_UPPER + LEFT_BROW_LOWER
RIGHT_BROW = RIGHT_BROW_UPPER + RIGHT_BROW_LOWER

# --- nose, oval, jaw ---
NOSE = (1, 2, 4, 5, 6, 19, 45, 48, 64, 94, 97, 98, 115, 168, 195, 197, 220, 275, 278, 294, 326, 327, 344, 440)
NOSE_TIP = 4  # the NOSE point nearest the camera on a frontal face
FACE_OVAL = (  # closed ring, clockwise on screen from the top of the forehead
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
JAW = (58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288)  # oval below the nose, left -> right
CHIN = (136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365)  # oval below the lower lip, left -> right
CHIN_TIP = 152  # lowest oval point on a frontal face


def face_size(landmarks: np.ndarray) -> float:
    """Distance between the two eye centres (pixels, x/y/z), a scale that ignores mouth and brows.

    Args:
        landmarks: (478, 2 or 3) landmarks in pixels.
    """
    landmarks = np.asarray(landmarks, np.float64)
    left = landmarks[list(LEFT_EYE)].mean(axis=0)
    right = landmarks[list(RIGHT_EYE)].mean(axis=0)
    return float(np.linalg.norm(left - right))


def mouth_opening(landmarks: np.ndarray) -> float:
    """Gap between the inner lips, divided by `face_size` (0 closed, ~0.3-0.6 wide open).

    The mean x/y distance of the three middle pairs of the upper and lower inner-lip contours.
    """
    landmarks = np.asarray(landmarks, np.float64)[:, :2]
    middle = len(UPPER_LIP_INNER) // 2
    pairs = slice(middle - 1, middle + 2)
    upper = landmarks[list(UPPER_LIP_INNER[pairs])]
    lower = landmarks[list(LOWER_LIP_INNER[pairs])]
    gap = np.linalg.norm(lower - upper, axis=1).mean()
    return float(gap / max(face_size(landmarks), 1e-6))


def eye_opening(landmarks: np.ndarray) -> tuple[float, float]:
    """(left, right) eye aspect ratio: lid gap / eye width (~0.25-0.35 open, < 0.1 closed).

    The mean x/y distance between the three middle pairs of upper and lower lid points, divided by
    the corner-to-corner width of that eye. Left/right are the subject's own.
    """
    landmarks = np.asarray(landmarks, np.float64)[:, :2]

    def ratio(upper_ids: tuple[int, ...], lower_ids: tuple[int, ...]) -> float:
        middle = len(upper_ids) // 2
        pairs = slice(middle - 1, middle + 2)
        gap = np.linalg.norm(landmarks[list(lower_ids[pairs])] - landmarks[list(upper_ids[pairs])], axis=1).mean()
        width = np.linalg.norm(landmarks[upper_ids[-1]] - landmarks[upper_ids[0]])
        return float(gap / max(width, 1e-6))

    return ratio(LEFT_EYE_UPPER, LEFT_EYE_LOWER), ratio(RIGHT_EYE_UPPER, RIGHT_EYE_LOWER)


def derive_index_sets(reference: np.ndarray) -> dict[str, tuple[int, ...]]:
    """Derive the ordered index sets above from MediaPipe's connection sets.

    Args:
        reference: (478, 2 or 3) landmarks of an upright frontal face in pixels; only used to tell
            upper from lower, image-left from image-right and (with z) the nose tip.

    Returns:
        {name: indices} for every contour constant of this module (single points as 1-tuples).
    """
    from mediapipe.python.solutions import face_mesh_connections as conn

    ref = np.asarray(reference, np.float64)[:, :2]

    def centre(edges) -> np.ndarray:
        return ref[sorted({i for edge in edges for i in edge})].mean(axis=0)

    # face frame: x along the eye line (image left -> right), y downwards, so head roll is ignored
    axis = centre(conn.FACEMESH_LEFT_EYE) - centre(conn.FACEMESH_RIGHT_EYE)
    axis /= np.linalg.norm(axis)
    pts = ref @ np.array([[axis[0], axis[1]], [-axis[1], axis[0]]]).T  # (478, 2)

    def graph(edges) -> tuple[dict[int, set[int]], list[list[int]]]:
        adjacent: dict[int, set[int]] = {}
        for a, b in edges:
            adjacent.setdefault(a, set()).add(b)
            adjacent.setdefault(b, set()).add(a)
        seen: set[int] = set()
        parts = []
        for start in sorted(adjacent):
            if start in seen:
                continue
            stack, part = [start], []
            while stack:
                v = stack.pop()
                if v not in seen:
                    seen.add(v)
                    part.append(v)
                    stack.extend(adjacent[v] - seen)
            parts.append(part)
        return adjacent, parts

    def walk(adjacent, start: int, first: int) -> list[int]:
        path, prev, v = [start], start, first
        while v not in path:
            path.append(v)
            nxt = [w for w in adjacent[v] if w != prev]
            if not nxt:
                break
            prev, v = v, nxt[0]
        return path

    def split_ring(adjacent, ring: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        left = min(ring, key=lambda i: pts[i, 0])
        right = max(ring, key=lambda i: pts[i, 0])
        halves = []
        for first in sorted(adjacent[left]):
            path = walk(adjacent, left, first)
            halves.append(tuple(path[: path.index(right) + 1]))
        halves.sort(key=lambda half: pts[list(half), 1].mean())
        return halves[0], halves[1]

    def left_to_right_path(adjacent, part: list[int]) -> tuple[int, ...]:
        start = min((v for v in part if len(adjacent[v]) == 1), key=lambda i: pts[i, 0])
        return tuple(walk(adjacent, start, next(iter(adjacent[start]))))

    out: dict[str, tuple[int, ...]] = {}
    adjacent, rings = graph(conn.FACEMESH_LIPS)
    outer, inner = sorted(rings, key=lambda ring: -np.ptp(pts[ring, 0]))  # the outer ring is wider
    out["UPPER_LIP_OUTER"], out["LOWER_LIP_OUTER"] = split_ring(adjacent, outer)
    out["UPPER_LIP_INNER"], out["LOWER_LIP_INNER"] = split_ring(adjacent, inner)

    iris_rings = {}
    for side in ("LEFT", "RIGHT"):
        adjacent, rings = graph(getattr(conn, f"FACEMESH_{side}_EYE"))
        out[f"{side}_EYE_UPPER"], out[f"{side}_EYE_LOWER"] = split_ring(adjacent, rings[0])
        adjacent, parts = graph(getattr(conn, f"FACEMESH_{side}_EYEBROW"))
        lines = sorted((left_to_right_path(adjacent, part) for part in parts), key=lambda p: pts[list(p), 1].mean())
        out[f"{side}_BROW_UPPER"], out[f"{side}_BROW_LOWER"] = lines
        iris_rings[side] = tuple(sorted({i for edge in getattr(conn, f"FACEMESH_{side}_IRIS") for i in edge}))
    # the refined points not on an iris ring are the iris centres; pair each with the nearer ring
    for centre_id in sorted(set(range(468, 478)) - set(iris_rings["LEFT"]) - set(iris_rings["RIGHT"])):
        side = min(iris_rings, key=lambda s: np.linalg.norm(pts[centre_id] - pts[list(iris_rings[s])].mean(axis=0)))
        out[f"{side}_IRIS"] = (centre_id,) + iris_rings[side]

    out["NOSE"] = tuple(sorted({i for edge in conn.FACEMESH_NOSE for i in edge}))
    adjacent, rings = graph(conn.FACEMESH_FACE_OVAL)
    top = min(rings[0], key=lambda i: pts[i, 1])
    oval = walk(adjacent, top, max(adjacent[top], key=lambda i: pts[i, 0]))  # clockwise on screen
    out["FACE_OVAL"] = tuple(oval)
    # the bottom of a clockwise ring runs right -> left: reverse it to read left -> right
    nose_bottom = pts[list(out["NOSE"]), 1].max()
    lip_bottom = pts[list(out["LOWER_LIP_OUTER"]), 1].max()
    out["JAW"] = tuple(i for i in reversed(oval) if pts[i, 1] > nose_bottom)
    out["CHIN"] = tuple(i for i in reversed(oval) if pts[i, 1] > lip_bottom)
    out["CHIN_TIP"] = (max(oval, key=lambda i: pts[i, 1]),)
    if reference.shape[1] >= 3:  # MediaPipe's z grows away from the camera
        out["NOSE_TIP"] = (min(out["NOSE"], key=lambda i: reference[i, 2]),)
    return out
