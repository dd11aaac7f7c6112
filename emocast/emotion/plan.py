"""EmotionPlan: what the face must do, as understood from the prompt (the "understand" stage's output)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

# MEAD's eight emotion categories, in a fixed order used everywhere (probabilities, confusion matrices).
EMOTIONS: tuple[str, ...] = ("angry", "contempt", "disgusted", "fear", "happy", "neutral", "sad", "surprised")


@dataclass
class Keyframe:
    """The expression at one moment of the clip."""

    t: float  # position in the clip, 0..1
    emotion: str  # one of EMOTIONS
    intensity: float  # 0..1
    aus: dict[str, float]  # FACS action unit ("AU12") -> 0..1
    # Unilateral AUs: AU -> side, +1.0 = subject's right side only, -1.0 = left side only (e.g. the
    # contempt smirk {"AU12": 1.0, "AU14": 1.0}); AUs not listed act on both sides.
    asymmetry: dict[str, float] = field(default_factory=dict)


@dataclass
class EmotionPlan:
    """The prompt, understood: label, probabilities, intensity, action units and their timeline."""

    text: str  # the prompt as given
    emotion: str  # dominant label, one of EMOTIONS
    probabilities: dict[str, float]  # all eight labels, summing to 1
    intensity: float  # 0..1, after the slider
    aus: dict[str, float]  # overall action units, 0..1
    description: str  # plain English, e.g. "cheeks raised (AU6), lip corners pulled up (AU12)"
    timeline: list[Keyframe]  # at least one keyframe, sorted by t
    warnings: list[str] = field(default_factory=list)  # e.g. "could not read the prompt; using neutral"
    asymmetry: dict[str, float] = field(default_factory=dict)  # unilateral AUs of `aus`, as in Keyframe

    def to_dict(self) -> dict:
        """JSON-ready dict (the `analyze-prompt --json` output)."""
        return asdict(self)

# The FACS action units the product models (unpadded names, as in "AU12"). The mesh engine's AU model
# covers all of them; the plan's `aus` dicts hold any subset.
AU_NAMES: tuple[str, ...] = (
    "AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU10", "AU11", "AU12", "AU14",
    "AU15", "AU16", "AU17", "AU20", "AU23", "AU24", "AU25", "AU26", "AU28", "AU43",
)


@dataclass
class ExpressionTrack:
    """The plan sampled per video frame: timeline interpolated, voice modulation applied."""

    fps: float
    au_names: tuple[str, ...]  # column names of `values` (AU_NAMES)
    values: np.ndarray  # (F, len(au_names)) float32, 0..1
    intensity: np.ndarray  # (F,) float32, 0..1, the effective expression intensity per frame
    emotions: list[str]  # (F,) dominant emotion label per frame

    def au(self, name: str) -> np.ndarray:
        """(F,) curve of one action unit."""
        return self.values[:, self.au_names.index(name)]
