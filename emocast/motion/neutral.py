"""Relax a portrait's own expression to neutral: the face the target expression is added to.

A smiling portrait must be able to look sad, so its smile is measured and taken away first:
mouth-corner height relative to the lip centre and mouth width are fitted with the rig's own
displacements by non-negative least squares (AU12, AU15, AU20, AU14), the fitted AUs are
subtracted (with the cheek raise that comes with a smile), and parted lips are closed: the jaw
is raised and the inner lip contours meet, so visible teeth vanish under lip texture.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from emocast.motion import topology as T
from emocast.motion.rig import build_basis

FIT_AUS = ("AU12", "AU15", "AU20", "AU14")
# population-typical neutral values (IOD units): corners about level with the lip centre,
# mouth a little narrower than the distance between the eye centres
NEUTRAL_CORNER_LIFT = 0.015
NEUTRAL_MOUTH_WIDTH = 0.8
FEATURE_WEIGHTS = np.array([1.0, 1.0])
RIDGE = 0.03  # keeps small, ambiguous AUs at zero
MAX_FIT = 2.0  # largest AU value removed (a broad laughing smile)
SMILE_CHEEK = 1.6  # AU6 removed per unit of fitted AU12 (capped by NEUTRAL_APERTURE: a relaxed eye)
NEUTRAL_MOUTH_CURVE = 0.0  # a relaxed closed mouth line is about straight
MAX_STRAIGHTEN_IOD = 0.05  # the most the straightening moves a point
NEUTRAL_APERTURE = 0.3  # lid opening / eye width of a relaxed eye: removing AU6 never opens wider


def mouth_features(face: np.ndarray) -> np.ndarray:
    """[corner lift, mouth width] of a face-frame mesh (IOD units; lift > 0 = corners above centre)."""
    stomion_v = (face[T.STOMION_UPPER, 1] + face[T.STOMION_LOWER, 1]) / 2
    corners = face[list(T.MOUTH_CORNERS)]
    return np.array([stomion_v - corners[:, 1].mean(), corners[1, 0] - corners[0, 0]])


def fit_source_aus(face: np.ndarray) -> dict[str, float]:
    """Mouth AUs of a face-frame mesh, by NNLS on the rig's feature Jacobian.

    The features are measured with the lips closed (an open mouth lowers the lip centre and would
    hide part of a smile's corner lift).
    """
    basis = build_basis(face, FIT_AUS).astype(np.float64)
    closed = face.copy()
    close_mouth(closed)
    f0 = mouth_features(closed)
    jac = []
    for b in basis:
        moved = face + b
        close_mouth(moved)
        jac.append(mouth_features(moved) - f0)
    jac = np.stack(jac, axis=1)  # (2, K)
    target = f0 - np.array([NEUTRAL_CORNER_LIFT, NEUTRAL_MOUTH_WIDTH])
    a = np.concatenate([jac * FEATURE_WEIGHTS[:, None], RIDGE * np.eye(len(FIT_AUS))])
    b = np.concatenate([target * FEATURE_WEIGHTS, np.zeros(len(FIT_AUS))])
    coef, _ = nnls(a, b)
    return {name: float(min(c, MAX_FIT)) for name, c in zip(FIT_AUS, coef)}


def neutralize(face: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """The person's neutral mesh.

    Args:
        face: (478, 3) landmarks in the face frame (IOD units).

    Returns:
        (478, 3) neutral mesh (face frame) and the fitted source AUs (incl. "lip_gap" in IOD).
    """
    face = np.asarray(face, np.float64)
    fitted = fit_source_aus(face)
    fitted["AU6"] = _cheek_raise(face, SMILE_CHEEK * fitted["AU12"])
    names = tuple(fitted)
    basis = build_basis(face, names).astype(np.float64)
    neutral = face - np.tensordot(np.array([fitted[n] for n in names]), basis, axes=1)
    fitted["lip_gap"] = close_mouth(neutral)
    fitted["mouth_curve"] = straighten_mouth(neutral)
    return neutral, fitted


def mouth_curve(face: np.ndarray) -> float:
    """Curvature of the closed mouth line, v = a + b u + c u^2 (IOD units; c < 0: corners up, a smile)."""
    up, lo = list(T.LIP_INNER_UPPER), list(T.LIP_INNER_LOWER)
    u = (face[up, 0] + face[lo, 0]) / 2
    v = (face[up, 1] + face[lo, 1]) / 2
    u = u - u.mean()
    return float(np.linalg.lstsq(np.stack([np.ones_like(u), u, u * u], 1), v, rcond=None)[0][2])


def straighten_mouth(face: np.ndarray) -> float:
    """Bend the closed mouth line to a relaxed mouth's curvature in place; returns the curvature removed.

    A smile curves the whole mouth line (and the lips around it) upward towards the corners, not
    only the corner points the AU fit moves; what is left of that curve is taken out with a
    quadratic profile across the mouth that fades above and below the lips.
    """
    excess = mouth_curve(face) - NEUTRAL_MOUTH_CURVE
    up, lo = list(T.LIP_INNER_UPPER), list(T.LIP_INNER_LOWER)
    centre_u = float(((face[up, 0] + face[lo, 0]) / 2).mean())
    slit_v = float(((face[T.STOMION_UPPER, 1] + face[T.STOMION_LOWER, 1]) / 2))
    half = abs(face[T.MOUTH_CORNERS[1], 0] - face[T.MOUTH_CORNERS[0], 0]) / 2
    du = np.clip(face[:, 0] - centre_u, -half, half)
    beyond = np.maximum(np.abs(face[:, 0] - centre_u) - half, 0.0)
    weight = np.exp(-0.5 * ((face[:, 1] - slit_v) / 0.14) ** 2) * np.exp(-0.5 * (beyond / 0.12) ** 2)
    shift = np.clip(-excess * du**2, -MAX_STRAIGHTEN_IOD, MAX_STRAIGHTEN_IOD)
    face[:, 1] += weight * shift
    # the closed inner contours stay exactly together
    inner_up, inner_lo = np.array(T.LIP_INNER_UPPER[1:-1]), np.array(T.LIP_INNER_LOWER[1:-1])
    mid = (face[inner_up, 1] + face[inner_lo, 1]) / 2
    closed = face[inner_lo, 1] - face[inner_up, 1] < 1e-3
    face[inner_up[closed], 1] = mid[closed]
    face[inner_lo[closed], 1] = mid[closed]
    return float(excess)


def eye_aperture(face: np.ndarray) -> float:
    """Mean lid opening over eye width of both eyes of a face-frame mesh (about 0.3 when relaxed)."""
    ratios = []
    for eye in T.EYES:
        opening = (face[list(eye.lower[2:7]), 1] - face[list(eye.upper[2:7]), 1]).mean()
        ratios.append(opening / max(abs(face[eye.upper[0], 0] - face[eye.upper[-1], 0]), 1e-6))
    return float(np.mean(ratios))


def _cheek_raise(face: np.ndarray, wanted: float) -> float:
    """AU6 to remove: `wanted`, but never opening the eyes wider than a relaxed eye."""
    if wanted <= 0.0:
        return 0.0
    cheek = build_basis(face, ("AU6",))[0].astype(np.float64)
    per_unit = eye_aperture(face - cheek) - eye_aperture(face)
    room = max(NEUTRAL_APERTURE - eye_aperture(face), 0.0)
    limit = room / per_unit if per_unit > 1e-6 else wanted
    return float(min(wanted, limit, MAX_FIT))


def close_mouth(face: np.ndarray) -> float:
    """Close parted lips in place: raise the jaw by most of the gap, then meet the inner contours.

    Returns the gap at the lip centre before closing (IOD units).
    """
    up, lo = np.array(T.LIP_INNER_UPPER[1:-1]), np.array(T.LIP_INNER_LOWER[1:-1])
    gap = float(face[T.STOMION_LOWER, 1] - face[T.STOMION_UPPER, 1])
    if gap > 0.0:
        jaw = build_basis(face, ("AU26",))[0].astype(np.float64)
        per_unit = jaw[T.STOMION_LOWER, 1]
        if per_unit > 1e-6:
            face -= (0.6 * gap / per_unit) * jaw
    mid = (face[up, 1] + face[lo, 1]) / 2
    open_ = face[lo, 1] > face[up, 1]
    face[up[open_], 1] = mid[open_]
    face[lo[open_], 1] = mid[open_]
    return max(gap, 0.0)
