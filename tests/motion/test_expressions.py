"""Behaviours that make expressions read: neutral appearance, lids, brows, mouth shapes and teeth."""

import numpy as np

from emocast.motion import topology as T
from emocast.motion.animate import plan_motion
from emocast.motion.neutral import eye_aperture, mouth_curve, neutralize
from emocast.motion.rig import FaceFrame
from emocast.render.frames import FrameRenderer
from emocast.render.mouth import mouth_area
from emocast.render.shading import ShadingMaps, neutral_appearance
from tests.motion.conftest import expression, speech, still

FEAR = {"AU1": 0.8, "AU2": 0.6, "AU4": 0.5, "AU5": 0.85, "AU7": 0.4, "AU20": 0.7, "AU25": 0.5, "AU26": 0.45}
SURPRISE = {"AU1": 0.85, "AU2": 0.85, "AU5": 0.7, "AU25": 0.45, "AU26": 0.7}
SMILE_OPEN = {"AU6": 0.7, "AU12": 0.8, "AU25": 0.5, "AU26": 0.45}


def _render(crop, aus):
    motion = plan_motion(crop, expression(aus, 1), speech(1), still())
    return FrameRenderer(crop, motion).render(0), motion.mesh_at(0), motion


def _polygon_pixels(image, polygon):
    import cv2

    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon[:, :2]).astype(np.int32)], 255)
    return image[mask > 0].astype(np.float64), mask > 0


def _teeth(pixels):
    """Pale, unsaturated pixels (teeth) among (N, 3) RGB pixels."""
    lum = pixels @ [0.299, 0.587, 0.114]
    chroma = pixels.max(1) - pixels.min(1)
    return (lum > 120) & (chroma < 0.35 * lum)


def test_neutral_appearance_flattens_the_smile_folds_and_hides_teeth(astronaut):
    _, crop = astronaut
    frame = FaceFrame.from_landmarks(crop.landmarks)
    _, fitted = neutralize(frame.to_face(crop.landmarks))
    out = neutral_appearance(crop.image, crop.landmarks, frame, fitted["AU12"])
    pts = np.asarray(crop.landmarks, np.float64)
    # the nasolabial folds (between nose wing and mouth corner): their shading is mid-scale contrast
    # against the skin around; the neutral copy has less of it
    assert _fold_contrast(out, pts, frame.iod) < 0.5 * _fold_contrast(crop.image, pts, frame.iod)  # 0.56 before 2026-11
    outer = pts[list(T.LIP_OUTER_UPPER) + list(T.LIP_OUTER_LOWER[-2:0:-1])]
    before, _ = _polygon_pixels(crop.image, outer)
    after, _ = _polygon_pixels(out, outer)
    assert _teeth(before).mean() > 0.15  # the photo shows a row of teeth
    assert _teeth(after).mean() < 0.3 * _teeth(before).mean()


def test_repainted_lips_are_shaded_like_lips(astronaut):
    """The laughing astronaut's lips are repainted closed: the lower lip is lit in its middle and
    darker towards the corners, with fine furrows across it, not one flat colour (a sticker)."""
    import cv2

    _, crop = astronaut
    frame = FaceFrame.from_landmarks(crop.landmarks)
    _, fitted = neutralize(frame.to_face(crop.landmarks))
    lum = cv2.cvtColor(neutral_appearance(crop.image, crop.landmarks, frame, fitted["AU12"]), cv2.COLOR_RGB2GRAY)
    pts = np.asarray(crop.landmarks, np.float64)[:, :2]
    a, b = pts[T.MOUTH_CORNERS[0]], pts[T.MOUTH_CORNERS[1]]
    u = np.linspace(-0.8, 0.8, 33)  # corner to corner
    xs = (a[0] + b[0]) / 2 + u * (b[0] - a[0]) / 2
    ys = (T.contour_y(pts[list(T.LIP_INNER_LOWER)], xs) + T.contour_y(pts[list(T.LIP_OUTER_LOWER)], xs)) / 2
    row = lum[np.round(ys).astype(int), np.round(xs).astype(int)].astype(np.float64)  # along the lower lip
    assert row[np.abs(u) < 0.2].mean() > 1.05 * row[np.abs(u) > 0.6].mean()  # 1.10 (flat paint: 1.00)
    fine = row - cv2.GaussianBlur(row[None], (0, 0), 3).ravel()
    assert fine[4:-4].std() > 2.0  # grey levels; 3.6 (flat paint: 1.5)


def _fold_contrast(img, pts, iod):
    """Mid-scale luminance contrast over both nasolabial folds (between nose wing and mouth corner)."""
    import cv2

    lum = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float64)
    band = cv2.GaussianBlur(lum, (0, 0), 0.03 * iod) - cv2.GaussianBlur(lum, (0, 0), 0.2 * iod)
    values = []
    for i in range(2):
        c = (pts[T.ALAR[i], :2] + pts[T.MOUTH_CORNERS[i], :2]) / 2
        r = int(0.12 * iod)
        x, y = np.round(c).astype(int)
        values.append(np.abs(band[y - r: y + r, x - r: x + r]).mean())
    return float(np.mean(values))


def test_a_frame_smiling_like_the_photo_gets_its_own_folds_back(astronaut):
    """The photo's own smile shading is flattened for every other expression, and given back, in
    proportion, to frames that smile: the folds a smiling target gets are the person's own."""
    _, crop = astronaut
    motion = plan_motion(crop, expression({}, 1), speech(1), still())
    maps = ShadingMaps.build(crop.image.shape[:2], motion)
    pts, iod = np.asarray(crop.landmarks, np.float64), motion.frame.iod
    k = motion.channels.index("AU12")
    photo = _fold_contrast(crop.image, pts, iod)
    contrast = []
    for share in (0.0, 0.5, 1.0):
        values = np.zeros(len(motion.channels), np.float32)
        values[k] = share * maps.smile
        contrast.append(_fold_contrast(maps.apply(crop.image, values), pts, iod))
    assert contrast[0] < 0.5 * photo  # relaxed: flattened (0.45 of the photo's)
    assert contrast[0] < contrast[1] < contrast[2]
    assert abs(contrast[2] - photo) < 0.25 * photo  # smiling as much as the photo: its own folds (+ the rig's: 1.14x)


def test_no_smile_no_appearance_change(hdtf):
    _, crop = hdtf
    frame = FaceFrame.from_landmarks(crop.landmarks)
    out = neutral_appearance(crop.image, crop.landmarks, frame, smile=0.0)
    assert np.array_equal(out, crop.image)


def test_neutral_mouth_line_is_straightened(astronaut):
    _, crop = astronaut
    face = FaceFrame.from_landmarks(crop.landmarks).to_face(crop.landmarks)
    neutral, fitted = neutralize(face)
    assert mouth_curve(face) < -0.3  # a laughing mouth curves up towards the corners
    assert abs(mouth_curve(neutral)) < 0.05
    assert eye_aperture(neutral) <= max(eye_aperture(face), 0.3) + 0.005  # never opened wider than relaxed


def test_neutral_undoes_a_squinting_smile_up_to_a_relaxed_eye(hdtf):
    from emocast.motion.rig import build_basis

    _, crop = hdtf
    face = FaceFrame.from_landmarks(crop.landmarks).to_face(crop.landmarks).astype(np.float64)
    relaxed, _ = neutralize(face)
    basis = build_basis(relaxed, ("AU6", "AU12"))
    smiling = relaxed + 1.0 * basis[0] + 0.8 * basis[1]  # a Duchenne smile narrows the eyes
    assert eye_aperture(smiling) < eye_aperture(relaxed) - 0.06
    neutral, fitted = neutralize(smiling)
    assert fitted["AU6"] > 0.7  # the cheek raise that came with the smile is taken out, not just a part
    assert abs(eye_aperture(neutral) - eye_aperture(relaxed)) < 0.03
    assert eye_aperture(neutral) <= max(eye_aperture(smiling), 0.3) + 0.005


def test_au5_raises_the_upper_lids_and_au7_narrows(hdtf):
    _, crop = hdtf
    base = _render(crop, {})[2]
    wide = _render(crop, {"AU5": 1.0})[2]
    tight = _render(crop, {"AU7": 1.0})[2]
    ap = lambda m: eye_aperture(m.frame.to_face(m.mesh_at(0)))  # noqa: E731
    assert ap(wide) > ap(base) + 0.04
    assert ap(tight) < ap(base) - 0.04


def test_au4_lowers_the_brow_heads_without_drooping_the_lids(hdtf):
    _, crop = hdtf
    face = lambda aus: (lambda m: m.frame.to_face(m.mesh_at(0)))(_render(crop, aus)[2])  # noqa: E731
    base, frown = face({}), face({"AU4": 1.0})
    heads = [T.RIGHT_BROW_LOWER[-1], T.LEFT_BROW_LOWER[-1]]
    assert np.all(frown[heads, 1] > base[heads, 1] + 0.08)
    # the brow slants down towards the nose: the head drops more than the tail
    tails = [T.RIGHT_BROW_LOWER[0], T.LEFT_BROW_LOWER[0]]
    assert np.all(frown[heads, 1] - base[heads, 1] > frown[tails, 1] - base[tails, 1] + 0.04)
    lids = list(T.RIGHT_EYE_UPPER[2:7] + T.LEFT_EYE_UPPER[2:7])
    assert np.abs(frown[lids, 1] - base[lids, 1]).max() < 0.025


def test_au17_arches_the_closed_mouth(hdtf):
    _, crop = hdtf
    base = _render(crop, {})[2]
    pout = _render(crop, {"AU17": 1.0})[2]
    curve = lambda m: mouth_curve(m.frame.to_face(m.mesh_at(0)))  # noqa: E731
    assert curve(pout) > curve(base) + 0.1  # inverted U: the middle rises, the corners stay


def test_fear_mouth_is_stretched_and_shows_less_upper_teeth_than_a_smile(hdtf):
    _, crop = hdtf
    fear_img, fear_mesh, fear = _render(crop, FEAR)
    smile_img, smile_mesh, _ = _render(crop, SMILE_OPEN)
    f = fear.frame.to_face(fear_mesh)
    width = f[T.MOUTH_CORNERS[1], 0] - f[T.MOUTH_CORNERS[0], 0]
    height = f[T.STOMION_LOWER, 1] - f[T.STOMION_UPPER, 1]
    assert width > 2.5 * height > 0.1  # wider than tall, and open

    def upper_teeth(img, mesh):
        poly = mesh[T.inner_mouth_polygon()]
        pixels, mask = _polygon_pixels(img, poly)
        ys = np.nonzero(mask)[0]
        top = ys < np.median(ys)  # upper half of the opening
        return float(_teeth(pixels[top]).mean())

    assert upper_teeth(fear_img, fear_mesh) < 0.7 * upper_teeth(smile_img, smile_mesh)


def test_surprise_mouth_is_a_tall_dark_opening_with_little_teeth(hdtf):
    _, crop = hdtf
    img, mesh, motion = _render(crop, SURPRISE)
    fear_mesh = _render(crop, FEAR)[1]
    f, g = motion.frame.to_face(mesh), motion.frame.to_face(fear_mesh)
    ratio = lambda m: (m[T.STOMION_LOWER, 1] - m[T.STOMION_UPPER, 1]) / (m[T.MOUTH_CORNERS[1], 0] - m[T.MOUTH_CORNERS[0], 0])  # noqa: E731
    assert ratio(f) > 1.5 * ratio(g)  # rounder than fear's stretched mouth
    assert mouth_area(mesh) > 100
    pixels, _ = _polygon_pixels(img, mesh[T.inner_mouth_polygon()])
    assert _teeth(pixels).mean() < 0.35
    assert np.median(pixels @ [0.299, 0.587, 0.114]) < 90  # mostly cavity


def test_strong_anger_shouts_with_bared_teeth_and_mild_anger_keeps_the_lips_pressed(hdtf):
    from emocast.emotion.facs import prototype_aus

    _, crop = hdtf
    strong_img, strong_mesh, _ = _render(crop, prototype_aus("angry", 0.9))
    mild_mesh = _render(crop, prototype_aus("angry", 0.4))[1]
    surprise_img, surprise_mesh, _ = _render(crop, SURPRISE)
    assert mouth_area(mild_mesh) < 5  # closed-mouth variant 4+5+7+17+23/24
    assert mouth_area(strong_mesh) > mouth_area(surprise_mesh)  # open-mouth variant 4+5+7+10+25+26: a shout
    pixels, _ = _polygon_pixels(strong_img, strong_mesh[T.inner_mouth_polygon()])
    surprise_pixels, _ = _polygon_pixels(surprise_img, surprise_mesh[T.inner_mouth_polygon()])
    # the raised upper lip and lowered lower lip bare both rows of teeth; surprise's relaxed lips cover them
    assert _teeth(pixels).mean() > 0.15
    assert _teeth(pixels).mean() > 2 * _teeth(surprise_pixels).mean()


def test_au9_pushes_the_lower_lids_up(hdtf):
    _, crop = hdtf
    base = _render(crop, {})[2]
    sneer = _render(crop, {"AU9": 1.0})[2]
    ap = lambda m: eye_aperture(m.frame.to_face(m.mesh_at(0)))  # noqa: E731
    assert ap(sneer) < ap(base) - 0.03



def _prompt_face(crop, word):
    """Face-frame mesh (IOD) of a one-word prompt at the slider's maximum, held still and silent."""
    from emocast.emotion.analyze import analyze_prompt
    from emocast.emotion.expression import expression_track

    track = expression_track(analyze_prompt(word, intensity=1.0), speech(1).prosody, voice_strength=0.0)
    motion = plan_motion(crop, track, speech(1), still())
    return motion.frame.to_face(motion.mesh_at(0))


def _corner_lift(face):
    """Mouth-corner lift above the lip centre with the lips closed (IOD; > 0: a smile)."""
    from emocast.motion.neutral import close_mouth, mouth_features

    closed = face.copy()
    close_mouth(closed)
    return mouth_features(closed)[0]


def test_a_plain_happy_prompt_smiles_about_as_broadly_as_a_smiling_photo(hdtf, astronaut):
    """At the slider's maximum the word "happy" lifts the mouth corners (lips closed) about as much as
    in a real smiling photo (the astronaut's own smile); a smaller smile read "neutral" on stills."""
    _, crop = hdtf
    _, smiling = astronaut
    photo = FaceFrame.from_landmarks(smiling.landmarks).to_face(smiling.landmarks)
    assert _corner_lift(_prompt_face(crop, "happy")) > 0.8 * _corner_lift(photo) > 0.1


def test_a_plain_sad_prompt_droops_the_lids_and_turns_the_corners_down(hdtf):
    """Sadness's drooping upper lids (Ekman & Friesen's AU41, a partial AU43 here) narrow the eyes
    visibly at the slider's maximum, and the corners come well below the lip centre."""
    _, crop = hdtf
    neutral, sad = _prompt_face(crop, "neutral"), _prompt_face(crop, "sad")
    assert eye_aperture(sad) < 0.88 * eye_aperture(neutral)
    assert _corner_lift(sad) < _corner_lift(neutral) - 0.11
