"""Where a training video comes from and what its file name says: source, identity, emotion, level.

MEAD (Wang et al., ECCV 2020) encodes everything in its folder layout,
``<identity>/video/<view>/<emotion>/level_<n>/<take>.mp4`` (e.g. ``M003/video/front/angry/level_3/001.mp4``),
and flattened copies keep the same parts in the file name (``M003_front_angry_level_3_001.mp4``).
HDTF names a file ``<WDA|WRA|RD>_<Person>_<nnn>.mp4``; it has no emotion labels. Anything else is
"wild" and gets its label from the emotion classifier at build time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from emocast.emotion.plan import EMOTIONS

SOURCES = ("mead", "hdtf", "wild")
MEAD_LEVELS = 3  # MEAD records levels 1..3 (neutral only level 1)
MEAD_VIEWS = ("front", "down", "top", "left_30", "left_60", "right_30", "right_60")
_EMOTION_RE = "|".join(EMOTIONS)
_VIEW_RE = "|".join(MEAD_VIEWS)
MEAD_PATTERN = re.compile(
    rf"(?P<identity>[MW]\d{{3}})_(?:video_)?(?:(?P<view>{_VIEW_RE})_)?(?P<emotion>{_EMOTION_RE})"
    rf"_level_?(?P<level>\d)_(?P<take>\d+)$",
    re.IGNORECASE,
)
HDTF_PATTERN = re.compile(r"^(?P<identity>(?:WDA|WRA|RD)_[A-Za-z0-9\-]+?)(?:_\d+)?$")


@dataclass
class VideoLabels:
    """What the path alone tells about one video."""

    clip_id: str  # unique, file-system safe id of the clip
    identity: str  # the person; clips of one identity share it
    source: str  # one of SOURCES
    emotion: str | None  # one of EMOTIONS, None when the source has no label
    intensity: float | None  # 0..1, None when the source has no label
    view: str | None = None  # MEAD camera view


def mead_intensity(emotion: str, level: int) -> float:
    """MEAD level 1..3 -> intensity 0..1 (neutral is 0; levels are equally spaced up to 1)."""
    if emotion == "neutral":
        return 0.0
    return max(1, min(MEAD_LEVELS, level)) / MEAD_LEVELS


def parse_video_path(path: str | Path, root: str | Path | None = None, source: str | None = None) -> VideoLabels:
    """Read source, identity and (for MEAD) emotion and level from a video's path.

    Args:
        path: the video file.
        root: the dataset folder it was found under (the id is made from the path below it).
        source: force "mead", "hdtf" or "wild"; None guesses from the name.
    """
    path = Path(path)
    rel = path.relative_to(root) if root is not None and path.is_relative_to(root) else Path(path.name)
    flat = "_".join(rel.with_suffix("").parts)
    clip_id = re.sub(r"[^A-Za-z0-9_\-]+", "_", flat).strip("_") or "clip"

    mead = _match_mead(rel)
    if source is None:
        source = "mead" if mead else "hdtf" if HDTF_PATTERN.match(path.stem) else "wild"
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; use one of {', '.join(SOURCES)}")

    if source == "mead" and mead:
        emotion = mead["emotion"].lower()
        view = (mead["view"] or "").lower() or None
        identity = mead["identity"].upper()
        level, take = int(mead["level"]), mead["take"]
        return VideoLabels(
            clip_id=f"{identity}_{view + '_' if view else ''}{emotion}_level_{level}_{take}",
            identity=identity,
            source="mead",
            emotion=emotion,
            intensity=mead_intensity(emotion, level),
            view=view,
        )
    hdtf = HDTF_PATTERN.match(path.stem)
    if hdtf:
        identity = hdtf["identity"]
    elif len(rel.parts) > 1:
        identity = rel.parts[-2]  # wild data is usually grouped in one folder per person
    else:
        identity = path.stem
    return VideoLabels(clip_id=clip_id, identity=identity, source=source, emotion=None, intensity=None)


def _match_mead(rel: Path) -> re.Match | None:
    """Match MEAD's nested layout or a flattened name (separators become underscores)."""
    parts = [p for p in rel.with_suffix("").parts]
    for start in range(len(parts)):
        match = MEAD_PATTERN.search("_".join(parts[start:]))
        if match and match.start() == 0:
            return match
    return None
