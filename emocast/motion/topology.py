"""Named MediaPipe FaceMesh (478 points, refined irises) index sets the mesh engine rigs and renders.

Sides are the subject's: RIGHT is on the left of a non-mirrored photo. Contours run from the outer
eye corner (or the right mouth corner) to the inner one (the left corner), so upper and lower
contours of the same feature are paired index by index.
"""

from __future__ import annotations

import numpy as np

# lips: inner and outer contours, right corner -> left corner, upper and lower paired
LIP_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIP_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIP_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIP_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
MOUTH_CORNERS = (61, 291)  # outer corners, right then left
INNER_CORNERS = (78, 308)
STOMION_UPPER, STOMION_LOWER = 13, 14  # centre of the inner lip contours
UPPER_LIP = tuple(sorted(set(LIP_INNER_UPPER + LIP_OUTER_UPPER) - {61, 291, 78, 308}))
LOWER_LIP = tuple(sorted(set(LIP_INNER_LOWER + LIP_OUTER_LOWER) - {61, 291, 78, 308}))

# eyes: upper and lower lid contours from outer corner to inner corner, paired
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LEFT_EYE_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
# the skin fold just above each upper lid (moves with the lid, less)
RIGHT_LID_CREASE = (247, 30, 29, 27, 28, 56, 190)
LEFT_LID_CREASE = (467, 260, 259, 257, 258, 286, 414)
RIGHT_IRIS = (468, 469, 470, 471, 472)  # centre first
LEFT_IRIS = (473, 474, 475, 476, 477)
EYE_CORNERS = ((33, 133), (263, 362))  # (outer, inner) for right, left

# brows: upper contour and lower contour, outer -> inner
RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)
LEFT_BROW_UPPER = (300, 293, 334, 296, 336)
LEFT_BROW_LOWER = (276, 283, 282, 295, 285)

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
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)


def inner_mouth_polygon() -> np.ndarray:
    """Indices of the inner-lip polygon: upper contour right->left, then lower contour left->right."""
    return np.array(LIP_INNER_UPPER + LIP_INNER_LOWER[-2:0:-1], dtype=np.int64)


def contour_y(points: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """y of a left-to-right contour, (N, 2+) points, at xs (linear between points, flat beyond its ends)."""
    order = np.argsort(points[:, 0])
    return np.interp(xs, points[order, 0], points[order, 1])
