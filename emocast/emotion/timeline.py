"""Time in a prompt: split "at first ..., then ...", "gradually", "suddenly", "ends with a smile"
into ordered segments with relative durations and the kind of transition between them.

Keyframe placement (fractions of the clip): each segment holds its expression over its span; the
change into the next one is centred on the boundary and lasts TRANSITION[kind] (a "sudden" change
is a close pair of keyframes, a "gradual" one spreads over most of both spans). The motion stage
interpolates between keyframes with a smoothstep, never a step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# half-width of a transition, as a fraction of the clip
TRANSITION = {"normal": 0.08, "sudden": 0.015, "gradual": 0.3}

SUDDEN = r"(?:suddenly|sudden|abruptly|all of a sudden|out of nowhere|instantly|snaps?|bursts?|bursting|explodes?|in a flash|without warning)"
GRADUAL = r"(?:gradually|slowly|bit by bit|little by little|over time|step by step|progressively|increasingly|growing|grows|builds?|building|melts?|melting|fades?|fading|softens?|softening|eventually|creeping|creeps)"

# Words that separate one moment from the next. Order matters: longer phrases first.
_SPLIT = re.compile(
    r"\s*(?:,|;|\.|!)?\s*\b(?:and then|but then|then|after that|afterwards|after a while|later on|later|"
    r"in the end|at the end|finally|eventually|ends? (?:up )?with|ending with|ends? up|ends? on|"
    r"until|till|before (?=(?:she|he|they|it|i|we|you)\b)|turns? into|turning into|turns? to|"
    r"gives? way to|giving way to|gave way to|shifts? (?:in)?to|shifting (?:in)?to|changes? (?:in)?to|"
    r"changing (?:in)?to|melts? into|melting into|dissolves? into|dissolving into|fades? into|fading into|"
    r"grows? into|growing into|builds? (?:up )?(?:in)?to|building (?:up )?(?:in)?to|escalates? (?:in)?to|"
    r"escalating (?:in)?to|breaks? into|breaking into|becomes?|becoming|then suddenly|and suddenly|"
    r"but suddenly|suddenly|all of a sudden|only to)\b\s*|\s*(?:->|→|=>|⇒)\s*",
    re.IGNORECASE,
)
_LEADING = re.compile(
    r"^\s*(?:at first|first|initially|in the beginning|at the beginning|to begin with|to start with|"
    r"at the start|starts? (?:out |off )?(?:as |with |by |being |feeling |looking )?|starting (?:out |off )?"
    r"(?:as |with |by )?|begins? (?:as |with |by )?|beginning (?:as |with )?)\b[\s,]*",
    re.IGNORECASE,
)
_FROM_TO = re.compile(r"^\s*(?:goes |going |moves |moving |shifts |shifting )?from (.+?) to (.+)$", re.IGNORECASE)
_RAMP_UP = re.compile(r"\b(?:growing|grows|increasingly|more and more|building|builds|getting|gets|rising|escalating)\b", re.I)
_RAMP_DOWN = re.compile(r"\b(?:calming down|calms down|fading|subsiding|less and less|cooling off|settling|relaxing)\b", re.I)
_END_WORDS = re.compile(r"\b(?:ends? (?:up )?with|ending with|ends? on|ends? up|in the end|at the end|finally)\b", re.I)


@dataclass
class Segment:
    """One moment of the prompt."""

    text: str  # the words describing this moment
    weight: float = 1.0  # relative duration
    transition: str = "normal"  # how the face arrives here from the previous segment


_FIRST_MARK = re.compile(r"(?<=\w)\s+(at first|initially|in the beginning|to begin with|for a moment)\b\s*,?", re.I)
_COMMA_GRADUAL = re.compile(rf",\s*(?=(?:and )?{GRADUAL}\b)", re.I)


def split_timeline(text: str) -> list[Segment]:
    """Ordered segments of a prompt; one segment when nothing changes over time."""
    # "calm at first, ..." and "..., gradually ..." also mark a new moment
    text = _FIRST_MARK.sub(" -> ", text)
    text = _COMMA_GRADUAL.sub(" -> ", text)
    m = _FROM_TO.match(text)
    if m and len(m.group(1).split()) <= 6:
        parts = [(m.group(1), ""), (m.group(2), "")]
    else:
        pieces = _SPLIT.split(text)
        separators = _SPLIT.findall(text)
        parts = [(pieces[0], "")] + list(zip(pieces[1:], separators))
    segments: list[Segment] = []
    for i, (piece, separator) in enumerate(parts):
        piece = _LEADING.sub("", piece).strip(" ,;.-")
        if not re.search(r"\w|[^\x00-\x7f]", piece):
            continue
        transition = "normal"
        if re.search(SUDDEN, separator + " " + piece, re.I):
            transition = "sudden"
        elif re.search(GRADUAL, separator + " " + piece, re.I) or re.search(GRADUAL, parts[i - 1][0] if i else "", re.I):
            transition = "gradual" if segments else "normal"
        weight = 0.5 if _END_WORDS.search(separator) and i == len(parts) - 1 else 1.0
        segments.append(Segment(piece, weight, transition))
    return segments or [Segment(text.strip())]


def segment_times(segments: list[Segment]) -> list[list[float]]:
    """Keyframe times (0..1) for each segment: [start, end] of its hold, or one time if the hold is a point."""
    total = sum(s.weight for s in segments)
    bounds, acc = [0.0], 0.0
    for s in segments:
        acc += s.weight / total
        bounds.append(acc)
    bounds[-1] = 1.0
    times = []
    for i, s in enumerate(segments):
        start, end = bounds[i], bounds[i + 1]
        span = end - start
        if i > 0:
            start += min(TRANSITION[s.transition], 0.45 * span)
        if i < len(segments) - 1:
            nxt = segments[i + 1]
            end -= min(TRANSITION[nxt.transition], 0.45 * span)
        times.append([round(start, 3)] if end - start < 1e-3 else [round(start, 3), round(end, 3)])
    return times


def ramp(text: str) -> str | None:
    """"up" for "growing more and more annoyed", "down" for "slowly calming down", else None."""
    if _RAMP_DOWN.search(text):
        return "down"
    if _RAMP_UP.search(text) or re.search(GRADUAL, text, re.I):
        return "up"
    return None
