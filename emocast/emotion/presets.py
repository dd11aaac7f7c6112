"""Prompt presets: curated emotive prompts with their expected label (data in presets/presets.json).

`emocast presets` lists them, `emocast generate --preset NAME` uses one, the app offers them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from emocast.emotion.plan import EMOTIONS
from emocast.errors import EmocastError

# The repository's presets/ folder (the package is used from a checkout or an editable install).
PRESETS_FILE = Path(__file__).resolve().parents[2] / "presets" / "presets.json"


@dataclass
class Preset:
    """One curated prompt."""

    name: str  # slug, e.g. "dream-job"
    prompt: str  # the text given to analyze_prompt
    emotion: str  # the label analyze_prompt should give (one of EMOTIONS)
    intensity: float = 0.8  # suggested slider value, 0..1
    tags: list[str] = field(default_factory=list)  # "scene", "muscles", "timeline", "mixture", ...

    def to_dict(self) -> dict:
        return asdict(self)


def load_presets(path: Path | None = None) -> list[Preset]:
    """All presets, in file order.

    Args:
        path: a presets JSON file; default presets/presets.json of the repository.
    """
    return list(_load(Path(path) if path else PRESETS_FILE))


def get_preset(name: str) -> Preset:
    """The preset called `name` (EmocastError if there is none)."""
    for preset in _load(PRESETS_FILE):
        if preset.name == name.strip().lower():
            return preset
    raise EmocastError(f"unknown preset '{name}'; run `emocast presets` to list them")


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[Preset, ...]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise EmocastError(f"cannot read the presets file {path}; reinstall EmoCAST Studio from its repository") from e
    except json.JSONDecodeError as e:
        raise EmocastError(f"the presets file {path} is not valid JSON (line {e.lineno}); fix or restore it") from e
    presets = []
    for item in data.get("presets", []):
        preset = Preset(
            name=item["name"],
            prompt=item["prompt"],
            emotion=item["emotion"],
            intensity=float(item.get("intensity", 0.8)),
            tags=list(item.get("tags", [])),
        )
        if preset.emotion not in EMOTIONS:
            raise EmocastError(f"preset {preset.name!r} has unknown emotion {preset.emotion!r}; use one of {EMOTIONS}")
        presets.append(preset)
    return tuple(presets)
