"""Named MediaPipe FaceMesh (478 points, refined irises) index sets the mesh engine rigs and renders.

Sides are the subject's: RIGHT is on the left of a non-mirrored photo. Contours run from the outer
eye corner (or the right mouth corner) to the inner one (the left corner), so upper and lower
contours of the same feature are paired index by index. The contours are face/landmarks.py's
(derived from MediaPipe's connection sets and tested against them), re-ordered where that module
runs them from the image's left to its right.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from emocast.face import landmarks as L

# lips: inner and outer contours, right corner -> left corner, upper and lower paired
LIP_INNER_UPPER = L.UPPER_LIP_INNER
LIP_INNER_LOWER = L.LOWER_LIP_INNER
LIP_OUTER_UPPER = L.UPPER_LIP_OUTER
LIP_OUTER_LOWER = L.LOWER_LIP_OUTER
MOUTH_CORNERS = (LIP_OUTER_UPPER[0], LIP_OUTER_UPPER[-1])  # outer corners, right then left
INNER_CORNERS = (LIP_INNER_UPPER[0], LIP_INNER_UPPER[-1])
STOMION_UPPER, STOMION_LOWER = 13, 14  # centre of the inner lip contours
# the rows of mesh points between the inner and the outer contours (inner side first), right -> left
LIP_UPPER_ROWS = ((183, 42, 41, 38, 12, 268, 271, 272, 407), (184, 74, 73, 72, 11, 302, 303, 304, 408))
LIP_LOWER_ROWS = ((96, 89, 179, 86, 15, 316, 403, 319, 325), (77, 90, 180, 85, 16, 315, 404, 320, 307))
# every point of each lip (contours and the rows between them), corners excluded: a lip moves as one
UPPER_LIP = tuple(sorted(set(LIP_INNER_UPPER + LIP_OUTER_UPPER + sum(LIP_UPPER_ROWS, ())) - set(MOUTH_CORNERS + INNER_CORNERS)))
LOWER_LIP = tuple(sorted(set(LIP_INNER_LOWER + LIP_OUTER_LOWER + sum(LIP_LOWER_ROWS, ())) - set(MOUTH_CORNERS + INNER_CORNERS)))

# eyes: upper and lower lid contours from outer corner to inner corner, paired
RIGHT_EYE_UPPER = L.RIGHT_EYE_UPPER
RIGHT_EYE_LOWER = L.RIGHT_EYE_LOWER
LEFT_EYE_UPPER = L.LEFT_EYE_UPPER[::-1]
LEFT_EYE_LOWER = L.LEFT_EYE_LOWER[::-1]
# the skin fold just above each upper lid (moves with the lid, less)
RIGHT_LID_CREASE = (247, 30, 29, 27, 28, 56, 190)
LEFT_LID_CREASE = (467, 260, 259, 257, 258, 286, 414)
RIGHT_IRIS = L.RIGHT_IRIS  # centre first
LEFT_IRIS = L.LEFT_IRIS
EYE_CORNERS = ((RIGHT_EYE_UPPER[0], RIGHT_EYE_UPPER[-1]), (LEFT_EYE_UPPER[0], LEFT_EYE_UPPER[-1]))  # (outer, inner)


class Eye(NamedTuple):
    """One eye's contours, each from the outer corner to the inner one (iris: centre first)."""

    upper: tuple[int, ...]
    lower: tuple[int, ...]
    crease: tuple[int, ...]
    iris: tuple[int, ...]

    @property
    def ring(self) -> tuple[int, ...]:
        """The closed lid outline: upper lid out -> in, then the lower lid back."""
        return self.upper + self.lower[::-1]


EYES = (  # the subject's right eye, then the left
    Eye(RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, RIGHT_LID_CREASE, RIGHT_IRIS),
    Eye(LEFT_EYE_UPPER, LEFT_EYE_LOWER, LEFT_LID_CREASE, LEFT_IRIS),
)

# brows: upper contour and lower contour, outer -> inner
RIGHT_BROW_UPPER = L.RIGHT_BROW_UPPER
RIGHT_BROW_LOWER = L.RIGHT_BROW_LOWER
LEFT_BROW_UPPER = L.LEFT_BROW_UPPER[::-1]
LEFT_BROW_LOWER = L.LEFT_BROW_LOWER[::-1]

# other features
NOSE_TIP = 1
NOSE_BOTTOM = 2
NOSE_BRIDGE = 168
ALAR = (129, 358)  # nostril wings, right then left
NOSTRIL = (98, 327)
CHEEK = (50, 280)  # cheek apex below each eye
CHIN = 152
CHIN_BOSS = 199  # between the lower lip and the chin tip
FOREHEAD = 10
FACE_OVAL = L.FACE_OVAL


def inner_mouth_polygon() -> np.ndarray:
    """Indices of the inner-lip polygon: upper contour right->left, then lower contour left->right."""
    return np.array(LIP_INNER_UPPER + LIP_INNER_LOWER[-2:0:-1], dtype=np.int64)


def contour_y(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """y of a left-to-right contour, (N, 2+) points, at xs (linear between points, flat beyond its ends)."""
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1])
