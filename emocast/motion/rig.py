"""A hand-built FACS rig on the MediaPipe 478-point mesh: action units -> landmark displacements.

Each action unit is a displacement field defined in a face-local frame (origin between the eyes,
x along the eye line towards the subject's left, y down, unit = inter-ocular distance "IOD") and
built from the portrait's own landmarks: smooth Gaussian "pulls" centred on named features
(brow ends, lid centres, mouth corners, ...), restricted to the right side of the mouth slit or
eye where a pull must not bleed across it, plus exact moves where geometry demands them (lids
closing onto the lower lid, the jaw rotating about its hinge). The model is linear:

    mesh = neutral + sum_k au_k * basis[k]          (face frame, IOD units)

Amplitudes follow FACS descriptions and are scaled per region by REGION_GAIN: brows and lids
need more than the mouth to be read at all on a still-sized face (see
shared/notes/expression-by-warping.md). The rig is our own (no fitted third-party data), so it
carries no dataset licence; see motion/data/PROVENANCE.md for why py-feat's AU->mesh PLS is not
vendored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emocast.motion import topology as T

# Amplitude multipliers per face region, applied to every AU that moves that region.
REGION_GAIN: dict[str, float] = {
    "brow": 1.6,  # brows must move a lot to read (AU1, AU2, AU4)
    "lid": 1.5,  # lid aperture (AU5, AU6, AU7)
    "mouth": 1.3,  # lip corners and lips (AU12, AU15, AU20, ...)
    "nose": 1.3,  # AU9, AU10
    "jaw": 1.0,  # AU26 / speech
}

# Rig channels: the product's AUs plus mouth shapes the motion stage sets (speech: ROUND, SPREAD;
# SQUARE: an opening jaw under tense lips, from AU26 and the lip tension of AU20 / AU16).
VISEME_CHANNELS: tuple[str, ...] = ("ROUND", "SPREAD", "SQUARE")
CLOSED_LID_GAP = 0.012  # the closed upper lid stops this far above the lower lid (IOD): the lash line
JAW_HINGE_V = 0.3  # jaw hinge height below the eye line (IOD); the jaw rotates about it
JAW_OPEN_IOD = 0.34  # how far AU26 = 1 drops the lower lip centre (IOD, ~21 mm: a surprised jaw drop)


@dataclass
class FaceFrame:
    """Similarity frame of a face: image point = origin + iod * (u * ex + v * ey)."""

    origin: np.ndarray  # (2,) pixels, midpoint between the eye centres
    ex: np.ndarray  # (2,) unit vector towards the subject's left eye
    ey: np.ndarray  # (2,) unit vector "down the face"
    iod: float  # inter-ocular distance (eye-centre to eye-centre), pixels

    @classmethod
    def from_landmarks(cls, landmarks: np.ndarray) -> "FaceFrame":
        """Frame from the eye corners of (478, 2+) pixel landmarks."""
        pts = np.asarray(landmarks, np.float64)[:, :2]
        right = pts[list(T.EYE_CORNERS[0])].mean(0)
        left = pts[list(T.EYE_CORNERS[1])].mean(0)
        ex = left - right
        iod = float(np.linalg.norm(ex))
        if iod < 1e-6:
            raise ValueError("degenerate landmarks: both eyes at the same place")
        ex = ex / iod
        ey = np.array([-ex[1], ex[0]])
        return cls(origin=(left + right) / 2, ex=ex, ey=ey, iod=iod)

    def to_face(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) pixel points (z in pixel scale) -> face-frame (N, 3) in IOD units."""
        p = np.asarray(points, np.float64)
        d = p[:, :2] - self.origin
        out = np.empty((len(p), 3))
        out[:, 0] = d @ self.ex / self.iod
        out[:, 1] = d @ self.ey / self.iod
        out[:, 2] = p[:, 2] / self.iod if p.shape[1] > 2 else 0.0
        return out

    def to_image(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) face-frame points -> (N, 3) pixels (z in pixel scale)."""
        p = np.asarray(points, np.float64)
        xy = self.origin + self.iod * (p[:, :1] * self.ex + p[:, 1:2] * self.ey)
        return np.concatenate([xy, p[:, 2:3] * self.iod], axis=1)


def rig_channels(au_names: tuple[str, ...]) -> tuple[str, ...]:
    """The rig's channel names: the given AUs followed by the viseme shapes."""
    return tuple(au_names) + VISEME_CHANNELS


def build_basis(face: np.ndarray, channels: tuple[str, ...]) -> np.ndarray:
    """Displacement per unit of each channel for one face.

    Args:
        face: (478, 3) neutral mesh in the face frame (IOD units).
        channels: AU names ("AU12") and viseme shapes ("ROUND", "SPREAD").

    Returns:
        (K, 478, 3) float32 displacements in IOD units for channel value 1.
    """
    rig = _Rig(np.asarray(face, np.float64))
    basis = np.zeros((len(channels), len(face), 3))
    for k, name in enumerate(channels):
        make = getattr(rig, name.lower(), None)
        if make is None:
            raise ValueError(f"the rig has no channel {name}")
        basis[k] = make()
    return basis.astype(np.float32)


class _Rig:
    """Builds each channel's displacement field from one neutral face (face-frame coordinates)."""

    def __init__(self, face: np.ndarray) -> None:
        self.p = face
        self.uv = face[:, :2]
        n = len(face)
        idx = lambda ids: np.asarray(ids, dtype=np.int64)  # noqa: E731
        self.sides = (-1.0, 1.0)  # right (image left, u < 0), left
        # the mouth slit: points below it belong to the jaw / lower lip
        self.lower = self._below_mouth_slit()
        self.lower[idx(T.UPPER_LIP)] = 0.0
        self.lower[idx(T.LOWER_LIP)] = 1.0
        self.lower[idx(T.MOUTH_CORNERS + T.INNER_CORNERS)] = 0.5
        self.upper = 1.0 - self.lower
        self.lower_lip_only = np.zeros(n)
        self.lower_lip_only[idx(T.LOWER_LIP)] = 1.0
        self.upper_lip_only = np.zeros(n)
        self.upper_lip_only[idx(T.UPPER_LIP)] = 1.0
        self.outer_upper = np.zeros(n)
        self.outer_upper[idx(T.LIP_OUTER_UPPER[1:-1])] = 1.0
        self.outer_lower = np.zeros(n)
        self.outer_lower[idx(T.LIP_OUTER_LOWER[1:-1])] = 1.0
        self.inner_lower = np.zeros(n)
        self.inner_lower[idx(T.LIP_INNER_LOWER[1:-1])] = 1.0
        # per eye: region above / below the lid line (for lid pulls that must not cross the eye)
        # lid contours, creases and irises: brow pulls must not drag them (a lowered brow is no droopy lid)
        self.lids = np.zeros(n)
        for eye in T.EYES:
            self.lids[idx(eye.upper + eye.lower + eye.iris)] = 1.0
            self.lids[idx(eye.crease)] = 0.5
        self.eyes = []
        for eye in T.EYES:
            centre = self.uv[list(eye.upper) + list(eye.lower)].mean(0)
            width = np.linalg.norm(self.uv[eye.upper[0]] - self.uv[eye.upper[-1]])
            self.eyes.append(dict(upper=idx(eye.upper), lower=idx(eye.lower), crease=idx(eye.crease),
                                  iris=idx(eye.iris), centre=centre, width=width))

    # -- helpers -------------------------------------------------------------------------------
    def _below_mouth_slit(self) -> np.ndarray:
        """Soft 0..1 weight of being below the line through the mouth corners and the stomion."""
        cr, cl = self.uv[T.MOUTH_CORNERS[0]], self.uv[T.MOUTH_CORNERS[1]]
        st = (self.uv[T.STOMION_UPPER] + self.uv[T.STOMION_LOWER]) / 2
        u = np.clip(self.uv[:, 0], cr[0], cl[0])
        # parabola through the corners and the stomion
        t = (u - st[0]) / np.where(u < st[0], st[0] - cr[0], cl[0] - st[0])
        edge = np.where(u < st[0], cr[1], cl[1])
        slit_v = st[1] + (edge - st[1]) * t**2
        return 1.0 / (1.0 + np.exp(-(self.uv[:, 1] - slit_v) / 0.03))

    def _mouth_lens(self) -> np.ndarray:
        """Per point: 1 on the mouth's midline, 0 at and beyond the corners (sqrt(1 - x^2) across)."""
        cr, cl = self.uv[T.MOUTH_CORNERS[0], 0], self.uv[T.MOUTH_CORNERS[1], 0]
        mid = (self.uv[T.STOMION_UPPER, 0] + self.uv[T.STOMION_LOWER, 0]) / 2
        half = np.where(self.uv[:, 0] < mid, max(mid - cr, 1e-3), max(cl - mid, 1e-3))
        across = np.clip(np.abs(self.uv[:, 0] - mid) / half, 0.0, 1.0)
        return np.sqrt(1.0 - across**2)

    def pull(self, centre, sigma, disp, mask=None) -> np.ndarray:
        """Gaussian falloff around `centre` (u, v) with (su, sv) radii, moving by `disp` (du, dv[, dz])."""
        d = (self.uv - np.asarray(centre)) / np.asarray(sigma, np.float64)
        w = np.exp(-0.5 * (d**2).sum(1))
        if mask is not None:
            w = w * mask
        disp = np.asarray(list(disp) + [0.0] * (3 - len(disp)))
        return w[:, None] * disp[None, :]

    def both(self, make) -> np.ndarray:
        """Sum a per-side pull over both sides; `make(side_index, sign)` returns a field."""
        return sum(make(i, s) for i, s in enumerate(self.sides))

    def at(self, ids) -> np.ndarray:
        return self.uv[list(ids)].mean(0) if isinstance(ids, (tuple, list)) else self.uv[ids]

    def eye_region(self, e: dict, above: bool) -> np.ndarray:
        """Points around one eye, above (or below) its lid line, inside an ellipse."""
        d = self.uv - e["centre"]
        inside = np.exp(-0.5 * ((d[:, 0] / (0.55 * e["width"])) ** 2 + (d[:, 1] / 0.22) ** 2))
        side = 1.0 / (1.0 + np.exp((d[:, 1]) / 0.015)) if above else 1.0 / (1.0 + np.exp(-(d[:, 1]) / 0.015))
        m = inside * side
        m[e["iris"]] = 0.0
        if above:
            m[e["lower"]] = 0.0
            m[e["upper"]] = np.maximum(m[e["upper"]], 0.9)
        else:
            m[e["upper"]] = 0.0
        return m

    # -- brows ---------------------------------------------------------------------------------
    def au1(self):  # inner brow raiser
        g = REGION_GAIN["brow"]
        inner = (T.RIGHT_BROW_LOWER[-2:] + T.RIGHT_BROW_UPPER[-2:], T.LEFT_BROW_LOWER[-2:] + T.LEFT_BROW_UPPER[-2:])
        f = self.both(lambda i, s: self.pull(self.at(inner[i]), (0.2, 0.2), (0.0, -0.11 * g)))
        return f + self.pull((0.0, -0.55), (0.4, 0.3), (0.0, -0.03 * g))

    def au2(self):  # outer brow raiser
        g = REGION_GAIN["brow"]
        outer = (T.RIGHT_BROW_LOWER[:2] + T.RIGHT_BROW_UPPER[:2], T.LEFT_BROW_LOWER[:2] + T.LEFT_BROW_UPPER[:2])
        return self.both(lambda i, s: self.pull(self.at(outer[i]), (0.24, 0.2), (0.0, -0.11 * g)))

    def au4(self):  # brow lowerer: inner brows down and together
        g = REGION_GAIN["brow"]
        # the brow heads come down and together most: the brows slant down towards the nose
        head = (T.RIGHT_BROW_LOWER[-1:] + T.RIGHT_BROW_UPPER[-1:], T.LEFT_BROW_LOWER[-1:] + T.LEFT_BROW_UPPER[-1:])
        keep_lids = 1.0 - self.lids
        f = self.both(lambda i, s: self.pull(self.at(head[i]) + np.array([s * 0.06, 0.0]), (0.2, 0.16),
                                             (-s * 0.05 * g, 0.08 * g), keep_lids))
        brow = (T.RIGHT_BROW_LOWER + T.RIGHT_BROW_UPPER, T.LEFT_BROW_LOWER + T.LEFT_BROW_UPPER)
        f += self.both(lambda i, s: self.pull(self.at(brow[i]), (0.35, 0.16), (0.0, 0.03 * g), keep_lids))
        # the lowered brow pushes the upper lid skin down a little
        f += self.both(lambda i, s: self.pull(self.eyes[i]["centre"], (0.2, 0.12), (0.0, 0.01 * g),
                                              self.eye_region(self.eyes[i], above=True)))
        return f

    # -- lids ----------------------------------------------------------------------------------
    def _lid(self, i: int, above: bool, amount: float) -> np.ndarray:
        e = self.eyes[i]
        centre = self.uv[e["upper"] if above else e["lower"]].mean(0)
        return self.pull(centre, (0.6 * e["width"], 0.12), (0.0, amount), self.eye_region(e, above))

    def au5(self):  # upper lid raiser
        g = REGION_GAIN["lid"]
        return sum(self._lid(i, True, -0.045 * g) for i in range(2))

    def au6(self):  # cheek raiser: cheeks up, lower lid pushed up
        g = REGION_GAIN["lid"]
        f = self.both(lambda i, s: self.pull(self.at(T.CHEEK[i]), (0.24, 0.2), (s * 0.01, -0.06 * g), self.upper))
        return f + sum(self._lid(i, False, -0.03 * g) for i in range(2))

    def au7(self):  # lid tightener: lower lid up, upper lid a little down
        g = REGION_GAIN["lid"]
        return sum(self._lid(i, False, -0.04 * g) + self._lid(i, True, 0.015 * g) for i in range(2))

    def au43(self):  # eyes closed: the upper lid comes down onto the lower lid
        f = np.zeros_like(self.p)
        for e in self.eyes:
            # onto the lower lid's curve below each point (not the lower point of the same index, which
            # sits at another x: the closed lid would cross the lower one between them and fold), leaving
            # the lash line: the eye's inside squeezed to nothing would fold triangles over the lid
            lower = T.contour_y(self.uv[e["lower"]], self.uv[e["upper"], 0])
            drop = np.maximum(lower - CLOSED_LID_GAP - self.uv[e["upper"], 1], 0.0)
            f[e["upper"], 1] = drop
            # the crease follows at about half the lid travel
            f[e["crease"], 1] = 0.5 * np.interp(np.linspace(0, 1, len(e["crease"])),
                                               np.linspace(0, 1, len(drop)), drop)
            # the iris is squashed onto the lower lid (the warp keeps it inside the opening)
            low = T.contour_y(self.uv[e["lower"]], self.uv[e["iris"], 0])
            f[e["iris"], 1] = low - self.uv[e["iris"], 1]
        return f

    # -- nose / upper lip ------------------------------------------------------------------------
    def au9(self):  # nose wrinkler
        g = REGION_GAIN["nose"]
        f = self.both(lambda i, s: self.pull(self.at(T.ALAR[i]), (0.12, 0.14), (-s * 0.01 * g, -0.055 * g)))
        f += self.pull(self.at(T.LIP_OUTER_UPPER[3:8]), (0.25, 0.08), (0.0, -0.035 * g), self.upper)
        inner = (T.RIGHT_BROW_LOWER[-2:], T.LEFT_BROW_LOWER[-2:])
        f += self.both(lambda i, s: self.pull(self.at(inner[i]), (0.18, 0.15), (0.0, 0.05 * REGION_GAIN["brow"])))
        # the raised infraorbital triangle pushes the lower lids up: the eyes narrow from below (FACS AU9)
        f += sum(self._lid(i, False, -0.035 * REGION_GAIN["lid"]) for i in range(2))
        return f

    def au10(self):  # upper lip raiser: the lip's middle rises, the corners stay (an upside-down U)
        g = REGION_GAIN["nose"]
        f = self.both(lambda i, s: self.pull(self.at(T.LIP_OUTER_UPPER[3] if i == 0 else T.LIP_OUTER_UPPER[-4]),
                                             (0.13, 0.1), (0.0, -0.075 * g), self.upper))
        return f + self.both(lambda i, s: self.pull(self.at(T.ALAR[i]), (0.1, 0.1), (0.0, -0.025 * g)))

    def au11(self):  # nasolabial deepener
        return self.both(lambda i, s: self.pull(self.at(T.LIP_OUTER_UPPER[1] if i == 0 else T.LIP_OUTER_UPPER[-2]),
                                                (0.12, 0.12), (s * 0.01, -0.03), self.upper))

    # -- lip corners -----------------------------------------------------------------------------
    def _corner(self, du: float, dv: float, sigma=(0.17, 0.15), dz: float = 0.0) -> np.ndarray:
        g = REGION_GAIN["mouth"]
        return self.both(lambda i, s: self.pull(self.at(T.MOUTH_CORNERS[i]), sigma, (s * du * g, dv * g, dz)))

    def au12(self):  # lip corner puller, up and out towards the cheekbone
        f = self._corner(0.09, -0.13)
        # the corners lift the sides of the upper lip with them (a broad smile uncovers the teeth)
        top = self.at(T.LIP_OUTER_UPPER[3:8])
        f += self.both(lambda i, s: self.pull(top + np.array([s * 0.22, 0.0]), (0.12, 0.1),
                                              (0.0, -0.025 * REGION_GAIN["mouth"]), self.upper_lip_only))
        return f + self.both(lambda i, s: self.pull(
            (self.at(T.MOUTH_CORNERS[i]) + self.at(T.CHEEK[i])) / 2, (0.25, 0.2), (s * 0.02, -0.035)))

    def au14(self):  # dimpler
        return self._corner(0.035, -0.015, (0.12, 0.12), dz=0.03)

    def au15(self):  # lip corner depressor: corners down (~8 mm at apex), the lower lip's sides with them
        return self._corner(0.02, 0.12, (0.15, 0.15))

    def au20(self):  # lip stretcher: corners straight back, lips flattened against the teeth
        g = REGION_GAIN["mouth"]
        f = self._corner(0.11, 0.05)  # back and slightly down (FACS: the corners may be pulled down a little)
        # the stretched lower lip flattens: its sides come down, so parted lips show the lower teeth
        centre = self.at(T.LIP_OUTER_LOWER[3:8])
        f += self.both(lambda i, s: self.pull(centre + np.array([s * 0.2, 0.0]), (0.14, 0.12),
                                              (0.0, 0.03 * g), self.lower_lip_only))
        # and the stretched upper lip lifts off its drape at the sides (teeth show across the mouth)
        top = self.at(T.LIP_OUTER_UPPER[3:8])
        return f + self.both(lambda i, s: self.pull(top + np.array([s * 0.2, 0.0]), (0.14, 0.12),
                                                    (0.0, -0.025 * g), self.upper_lip_only))

    # -- lips -----------------------------------------------------------------------------------
    def au16(self):  # lower lip depressor (not in every AU model: built by hand here too)
        g = REGION_GAIN["mouth"]
        centre = self.at(T.LIP_OUTER_LOWER[3:8])
        f = self.pull(centre, (0.25, 0.14), (0.0, 0.065 * g), self.lower)
        return f + self.both(lambda i, s: self.pull(centre + np.array([s * 0.15, 0.0]), (0.12, 0.12),
                                                    (s * 0.02, 0.01), self.lower_lip_only))

    def au17(self):  # chin raiser: chin and lower lip pushed up (inner lip stays against the upper)
        g = REGION_GAIN["mouth"]
        mask = self.lower * (1.0 - self.inner_lower)
        f = self.pull(self.at(T.CHIN_BOSS), (0.3, 0.22), (0.0, -0.055 * g, -0.03), mask)
        f += self.pull(self.at(T.LIP_OUTER_LOWER[3:8]), (0.4, 0.08), (0.0, -0.015 * g), self.outer_lower)
        # the pushed-up lower lip lifts the middle of the closed lips while the corners stay: the mouth
        # line takes the inverted-U shape FACS describes for AU17
        lips = np.clip(self.upper_lip_only + self.lower_lip_only, 0.0, 1.0)
        lips[list(T.LIP_OUTER_UPPER[1:-1])] *= 0.5
        stomion = (self.at(T.STOMION_UPPER) + self.at(T.STOMION_LOWER)) / 2
        return f + self.pull(stomion, (0.2, 0.25), (0.0, -0.035 * g), lips)

    # Lip thickness: each red margin is ~6-8 mm (0.1-0.13 IOD); tightened or pressed lips roll in
    # until about half of it shows.
    def au23(self):  # lip tightener: lips narrowed, red margins thinner, a tense straight line
        g = REGION_GAIN["mouth"]
        f = self._corner(-0.035, 0.0, (0.12, 0.12))
        f += self.pull(self.at(T.STOMION_UPPER), (0.35, 0.1), (0.0, 0.03 * g), self.outer_upper)
        return f + self.pull(self.at(T.STOMION_LOWER), (0.35, 0.1), (0.0, -0.035 * g), self.outer_lower)

    def au24(self):  # lip pressor: lips pressed together, thinned, the skin around them bulges
        g = REGION_GAIN["mouth"]
        f = self._corner(-0.02, 0.0, (0.12, 0.12))
        f += self.pull(self.at(T.STOMION_UPPER), (0.35, 0.12), (0.0, 0.035 * g), self.outer_upper)
        f += self.pull(self.at(T.STOMION_LOWER), (0.35, 0.12), (0.0, -0.045 * g), self.outer_lower)
        return f + self.pull(self.at(T.CHIN_BOSS), (0.3, 0.2), (0.0, -0.015), self.lower * (1 - self.inner_lower))

    def au25(self):  # lips part (without the jaw)
        f = self.pull(self.at(T.STOMION_UPPER), (0.3, 0.2), (0.0, -0.012), self.upper_lip_only)
        return f + self.pull(self.at(T.STOMION_LOWER), (0.3, 0.25), (0.0, 0.045), self.lower)

    def au26(self):  # jaw drop: the lower face rotates about the jaw hinge
        # the lips stretch over the opening, pinned at the corners: the lower lip follows the jaw less
        # towards them and the upper lip's sides come down with them, so the opening is a lens, not a box
        f = self._jaw(*self._lens_shares())
        # the lips follow: the mouth gets taller and narrower, corners drawn in and down
        return f + self._corner(-0.045, 0.05, (0.14, 0.14))

    def square(self):  # tense lips (AU20, AU16) open as a box: the jaw's lower lip sides drop with it
        # the jaw with every point below the slit following it fully, less AU26's lens
        lens_lower, lens_upper = self._lens_shares()
        return self._jaw(self.lower - lens_lower, -lens_upper)

    def _lens_shares(self) -> tuple[np.ndarray, np.ndarray]:
        """Per point, the share of the jaw's drop it follows in AU26: (below the slit, upper lip's sides)."""
        shape = self._mouth_lens()
        corner = 0.5  # the corners' share of the drop (self.lower is 0.5 there)
        lower = self.lower * np.where(self.lower_lip_only > 0, corner + (1 - corner) * shape**1.5, 1.0)
        return lower, self.upper_lip_only * corner * (1 - shape)

    def _jaw(self, lower: np.ndarray, upper_lip: np.ndarray) -> np.ndarray:
        """The jaw's rotation at AU26 = 1 applied to points by their shares."""
        g = REGION_GAIN["jaw"]
        lever = np.maximum(self.uv[:, 1] - JAW_HINGE_V, 0.0)
        lever_lip = max(self.uv[T.STOMION_LOWER, 1] - JAW_HINGE_V, 0.1)
        angle = JAW_OPEN_IOD / lever_lip
        # jaw corners near the ears barely move in the picture
        half_width = abs(self.uv[T.CHEEK[1], 0] - self.uv[T.CHEEK[0], 0]) / 2 + 0.35
        lateral = np.clip((half_width - np.abs(self.uv[:, 0])) / 0.4, 0.0, 1.0)
        w = (lower + upper_lip) * lateral * g
        f = np.zeros_like(self.p)
        f[:, 1] = angle * lever * w
        f[:, 0] = -0.08 * angle * self.uv[:, 0] * lever * w  # cheeks narrow as the jaw opens
        f[:, 2] = 0.3 * angle * lever * w  # chin moves back
        return f

    def au28(self):  # lip suck: both lips rolled in
        f = self.pull(self.at(T.STOMION_UPPER), (0.35, 0.12), (0.0, 0.04), self.outer_upper)
        return f + self.pull(self.at(T.STOMION_LOWER), (0.35, 0.12), (0.0, -0.045), self.outer_lower)

    # -- speech mouth shapes ---------------------------------------------------------------------
    def round(self):  # /uw ow w/: corners in, lips pushed forward into an "o"
        f = self._corner(-0.09, 0.0, (0.16, 0.16), dz=-0.06)
        f += self.pull(self.at(T.STOMION_UPPER), (0.25, 0.15), (0.0, -0.01, -0.05), self.upper)
        return f + self.pull(self.at(T.STOMION_LOWER), (0.25, 0.15), (0.0, 0.012, -0.05), self.lower)

    def spread(self):  # /iy eh/: corners out
        return self._corner(0.06, -0.008)
