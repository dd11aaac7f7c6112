"""analyze_prompt(): free text -> EmotionPlan (label, probabilities, intensity, AUs, timeline).

Implements the "understand" stage that feeds EmoCAST's emotive text condition (arXiv 2508.20615,
Sec. 3) and the mesh engine's AU model. Three readers vote, per moment of the prompt:

1. the rule layer (lexicon.py): emotion words and synonyms with strengths, intensity modifiers,
   negation, emoji/emoticons, typo correction;
2. named muscles ("brows raised, mouth open") -> AUs -> the emotion whose FACS prototype they fit;
3. the embedding layer (classifier.py): MiniLM similarity to exemplar scenes, so "she opened the
   envelope and learned she got in" reads as happy with no emotion word in it.

Their logits add; a softmax gives the eight probabilities. timeline.py splits "at first ..., then ..."
into moments, each read the same way, which become the keyframes.

Intensity mapping (the slider): the text has its own intensity t (a plain "angry" is 0.6, "slightly
annoyed" ~0.2, "livid" 0.95; modifiers, "!!" and capitals scale it). With a slider value s the
effective intensity is x = t * s / 0.8, softly saturated above 0.8 so it stays below 1 and keeps the
order of words. So the app's default s = 0.8 shows exactly what the text says, s = 1.0 makes a plain
"angry" a strong 0.75, s = 0.4 halves everything. intensity=None uses t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from emocast.emotion import facs, lexicon
from emocast.emotion.plan import EMOTIONS, EmotionPlan, Keyframe
from emocast.emotion.timeline import Segment, ramp, segment_times, split_timeline

DEFAULT_TEXT_INTENSITY = 0.6  # a situation or a plain label with no intensity word
MUSCLE_TEXT_INTENSITY = 0.65  # a muscle description with no intensity word
SLIDER_REFERENCE = 0.8  # the slider value at which the text's own intensity is used unchanged
LEXICON_GAIN = 3.5  # logits per unit of emotion-word weight (one plain word ~ e^3.5 in odds)
MUSCLE_GAIN = 8.0  # logits per unit of AU-pattern match above MUSCLE_FLOOR
MUSCLE_FLOOR = 0.3
NEGATED_EMBEDDING_SCALE = 0.3  # sentence embeddings barely see "not"; trust them less then
MUSCLE_EMBEDDING_SCALE = 0.5  # ... nor which muscle moves which way ("lip corners pulled up" vs "down")
UNREADABLE_KNOWN_FRACTION = 0.5  # below this share of English words, with no emotion cue: unreadable
MIX_MIN_SHARE = 0.3  # a second emotion joins the AU blend from this share of the dominant one
MUSCLE_PROTOTYPE_SHARE = 0.35  # prototype AUs kept when the prompt names its muscles itself
LATER_PREFERENCE = 0.4  # timelines: the last moment weighs 1.4x the first (the clip builds to it)
SUDDEN_ONSET = 0.3  # "suddenly furious": neutral until this fraction of the clip


@dataclass
class Reading:
    """One moment of the prompt, understood."""

    probabilities: np.ndarray  # (8,) in EMOTIONS order
    text_intensity: float  # 0..1 before the slider
    muscle_aus: dict[str, float] = field(default_factory=dict)
    readable: bool = True
    hits: list[str] = field(default_factory=list)
    blend: dict[str, float] = field(default_factory=dict)  # mixture words: emotion -> weight

    @property
    def label(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]


def analyze_prompt(text: str, intensity: float | None = None) -> EmotionPlan:
    """Understand an emotion prompt.

    Args:
        text: free text in English: labels, synonyms, scenes, muscles, emoji, time ("then ...").
        intensity: 0..1 slider that scales the text's own intensity (see the module docstring);
            None uses the text's own intensity.

    Returns:
        EmotionPlan with the dominant label, all eight probabilities, intensity, AUs, a plain-English
        description and the keyframe timeline. Unreadable text gives neutral with a warning.
    """
    text = text if isinstance(text, str) else str(text)
    # bytes that are not UTF-8 (a terminal in another encoding) arrive as lone surrogates: drop them
    text = text.encode("utf-8", "ignore").decode("utf-8")
    if intensity is not None and not 0.0 <= intensity <= 1.0:
        from emocast.errors import EmocastError

        raise EmocastError(f"intensity must be between 0 and 1, got {intensity}")
    warnings: list[str] = []
    # 1. moments of the prompt
    segments = split_timeline(text) if text.strip() else []
    if not segments:
        return _neutral_plan(text, ["the prompt is empty; using a neutral face"])
    # 2. read each moment (all embeddings in one batch)
    readings = _read_segments(segments)
    if not any(r.readable for r in readings):
        return _neutral_plan(
            text, ["could not read the prompt (not English, or no recognisable words); using a neutral face"]
        )
    # 3. keyframes
    timeline = _keyframes(segments, readings, intensity)
    # 4. the plan's overall label/probabilities: moments weighted by duration and strength
    probabilities, dominant = _overall(segments, readings, timeline)
    emotion = EMOTIONS[int(np.argmax(probabilities))]
    key = timeline[dominant]
    return EmotionPlan(
        text=text,
        emotion=emotion,
        probabilities={e: float(p) for e, p in zip(EMOTIONS, probabilities)},
        intensity=key.intensity,
        aus=dict(key.aus),
        description=facs.describe_aus(key.aus, key.asymmetry),
        timeline=timeline,
        warnings=warnings,
        asymmetry=dict(key.asymmetry),
    )


def effective_intensity(text_intensity: float, slider: float | None) -> float:
    """Slider mapping: text intensity t, slider s -> t * s / 0.8, softly saturated below 1."""
    if slider is None:
        return float(min(max(text_intensity, 0.0), 1.0))
    x = text_intensity * slider / SLIDER_REFERENCE
    if x > 0.8:
        x = 0.8 + 0.2 * (1.0 - math.exp(-(x - 0.8) / 0.2))
    return float(min(max(x, 0.0), 1.0))


def _read_segments(segments: list[Segment]) -> list[Reading]:
    from emocast.emotion.classifier import embedding_logits

    evidence = [lexicon.read_clause(s.text) for s in segments]
    readable_idx = [i for i, ev in enumerate(evidence) if _readable(ev)]
    emb_logits = np.zeros((len(segments), len(EMOTIONS)), np.float32)
    if readable_idx:
        logits, _ = embedding_logits(
            [lexicon.corrected_text(segments[i].text, evidence[i].corrections) for i in readable_idx]
        )
        emb_logits[readable_idx] = logits
    readings = []
    for i, ev in enumerate(evidence):
        if i not in readable_idx:
            readings.append(Reading(_one_hot("neutral"), 0.0, readable=False))
            continue
        lex = np.array([ev.scores[e] for e in EMOTIONS], np.float32)
        lex = np.minimum(lex, 2.0)  # many words count, but not without bound
        muscle = _muscle_evidence(ev.muscle_aus)
        scale = NEGATED_EMBEDDING_SCALE if ev.negated else 1.0
        if ev.muscle_aus:
            scale *= MUSCLE_EMBEDDING_SCALE
        logits = scale * emb_logits[i] + LEXICON_GAIN * lex + MUSCLE_GAIN * muscle
        probabilities = _softmax(logits)
        if ev.intensity is not None:
            t = ev.intensity
        elif ev.muscle_aus:
            t = MUSCLE_TEXT_INTENSITY
        else:
            t = DEFAULT_TEXT_INTENSITY
        t = float(min(max(t * ev.intensity_factor, 0.05), 1.0))
        readings.append(Reading(probabilities, t, dict(ev.muscle_aus), True, ev.hits, dict(ev.blend)))
    return readings


def _readable(ev: lexicon.Evidence) -> bool:
    if any(v > 0 for v in ev.scores.values()) or ev.muscle_aus:
        return True
    return ev.num_words > 0 and ev.known_fraction >= UNREADABLE_KNOWN_FRACTION


def _muscle_evidence(aus: dict[str, float]) -> np.ndarray:
    """(8,) how well named AUs fit each emotion's prototype (cosine above a floor), 0 if none."""
    out = np.zeros(len(EMOTIONS), np.float32)
    if not aus:
        return out
    from emocast.emotion.plan import AU_NAMES

    vec = np.array([aus.get(a, 0.0) for a in AU_NAMES], np.float32)
    vec /= np.linalg.norm(vec) + 1e-9
    for i, emotion in enumerate(EMOTIONS):
        proto = np.array([facs.PROTOTYPES[emotion].get(a, 0.0) for a in AU_NAMES], np.float32)
        if proto.any():
            cos = float(vec @ proto / np.linalg.norm(proto))
            out[i] = max(cos - MUSCLE_FLOOR, 0.0)
    return out


def _segment_aus(reading: Reading, intensity: float) -> tuple[str, dict[str, float], dict[str, float]]:
    """(label, AUs, asymmetry) of one moment at an effective intensity."""
    p = reading.probabilities
    label = reading.label
    shares: dict[str, float] = {}
    if label != "neutral":
        sharp = {e: float(p[i]) ** 2 for i, e in enumerate(EMOTIONS) if e != "neutral"}
        top = sharp[label]
        shares = {e: s / top for e, s in sharp.items() if s / top >= MIX_MIN_SHARE**2}
        shares = {e: min(1.0, math.sqrt(s)) if e != label else 1.0 for e, s in shares.items()}
        if reading.blend and label in reading.blend:
            top_blend = max(reading.blend.values())
            for e, w in reading.blend.items():
                shares[e] = max(shares.get(e, 0.0), w / top_blend)
    if reading.muscle_aus:
        shares = {e: s * MUSCLE_PROTOTYPE_SHARE for e, s in shares.items()}
    aus, asymmetry = facs.blend_aus(shares, intensity)
    for au, w in reading.muscle_aus.items():
        aus[au] = round(max(aus.get(au, 0.0), facs.au_value(au, w, max(intensity, 0.35))), 3)
    if reading.muscle_aus and "AU14" in reading.muscle_aus and "AU12" not in asymmetry:
        asymmetry.update({"AU12": 1.0, "AU14": 1.0})  # a named smirk is one-sided
    from emocast.emotion.plan import AU_NAMES

    aus = {a: aus[a] for a in AU_NAMES if a in aus}
    return label, aus, {a: s for a, s in asymmetry.items() if a in aus}


def _keyframes(segments: list[Segment], readings: list[Reading], slider: float | None) -> list[Keyframe]:
    times = segment_times(segments)
    frames: list[Keyframe] = []
    if segments[0].transition == "sudden" and len(segments) == 1:
        # "suddenly furious": a calm start, then a fast onset
        frames.append(Keyframe(0.0, "neutral", 0.0, {}))
        frames.append(Keyframe(SUDDEN_ONSET, "neutral", 0.0, {}))
        times = [[SUDDEN_ONSET + 2 * 0.015, 1.0]]
    for seg, reading, ts in zip(segments, readings, times):
        intensity = effective_intensity(reading.text_intensity, slider)
        label, aus, asym = _segment_aus(reading, intensity)
        if label == "neutral" and not aus:
            intensity = 0.0
        direction = ramp(seg.text) if len(segments) == 1 and len(ts) == 2 else None
        if direction and label != "neutral":
            # "growing more and more annoyed": one moment whose intensity ramps over the clip
            lo = max(0.25 * intensity, 0.05)
            start_i, end_i = (lo, intensity) if direction == "up" else (intensity, lo)
            for t, i in ((ts[0], start_i), (ts[1], end_i)):
                _, a, s = _segment_aus(reading, i)
                frames.append(Keyframe(t, label, round(i, 3), a, s))
            continue
        for t in ts:
            frames.append(Keyframe(t, label, round(intensity, 3), dict(aus), dict(asym)))
    if len(frames) > 1 and all(_same(frames[0], f) for f in frames[1:]):
        frames = [Keyframe(0.0, frames[0].emotion, frames[0].intensity, frames[0].aus, frames[0].asymmetry)]
    return frames


def _same(a: Keyframe, b: Keyframe) -> bool:
    return a.emotion == b.emotion and a.intensity == b.intensity and a.aus == b.aus


def _overall(segments: list[Segment], readings: list[Reading], timeline: list[Keyframe]) -> tuple[np.ndarray, int]:
    """Duration- and strength-weighted probabilities, and the index of the dominant keyframe.

    Rule for timelines: the moment with the largest duration x strength dominates, with a
    preference for later moments (the expression the clip builds to), and neutral moments count less.
    """
    n = len(segments)
    weights = []
    for i, (seg, reading) in enumerate(zip(segments, readings)):
        strength = 0.3 if reading.label == "neutral" else 0.6 + 0.4 * reading.text_intensity
        weights.append(seg.weight * strength * (1.0 + LATER_PREFERENCE * i / max(n - 1, 1)))
    weights = np.asarray(weights)
    probabilities = (weights[:, None] * np.stack([r.probabilities for r in readings])).sum(0) / weights.sum()
    probabilities = probabilities / probabilities.sum()
    label = EMOTIONS[int(np.argmax(probabilities))]
    # dominant keyframe: the strongest one with the overall label, else the strongest one
    candidates = [i for i, k in enumerate(timeline) if k.emotion == label] or list(range(len(timeline)))
    dominant = max(candidates, key=lambda i: (timeline[i].intensity, timeline[i].t))
    return probabilities, dominant


def _neutral_plan(text: str, warnings: list[str]) -> EmotionPlan:
    probabilities = {e: (1.0 if e == "neutral" else 0.0) for e in EMOTIONS}
    return EmotionPlan(
        text=text,
        emotion="neutral",
        probabilities=probabilities,
        intensity=0.0,
        aus={},
        description=facs.describe_aus({}),
        timeline=[Keyframe(0.0, "neutral", 0.0, {})],
        warnings=warnings,
    )


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max())
    return (z / z.sum()).astype(np.float64)


def _one_hot(emotion: str) -> np.ndarray:
    out = np.zeros(len(EMOTIONS))
    out[EMOTIONS.index(emotion)] = 1.0
    return out
