"""Runtime options for one generation: the single dataclass the CLI and the app both fill."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from emocast.errors import EmocastError

ENGINES = ("mesh", "diffusion", "auto")
MAX_PROMPT_CHARS = 1000
DEFAULT_MAX_AUDIO_SECONDS = 600.0  # 10 minutes; raise it with --max-audio-seconds


@dataclass
class GenerateOptions:
    """How to render. Every field has a default that works on any CPU."""

    intensity: float = 0.8  # 0..1, scales the prompt's own intensity
    engine: str = "mesh"  # "mesh" (CPU), "diffusion" (GPU + weights) or "auto"
    size: int = 512  # output side in pixels (square face-centred crop)
    fps: int = 25  # output frame rate
    seed: int = 0  # seeds blinks, gaze and head-motion noise (and diffusion noise)
    head_motion: float = 0.5  # 0..1 amount of prosody-driven head motion
    blink: bool = True  # natural blinks at random intervals
    voice_strength: float = 0.5  # 0..1: how much loudness/pitch modulate expression (0 = off)
    keep_frame: bool = False  # composite the animated face back into the whole picture
    max_audio_seconds: float = DEFAULT_MAX_AUDIO_SECONDS  # longer audio is refused
    weights: Path | None = None  # diffusion engine: folder with the pretrained weights
    steps: int = 25  # diffusion engine: sampling steps

    def check(self) -> "GenerateOptions":
        """Raise EmocastError with a one-line message for any out-of-range or mistyped value."""
        for name in ("size", "fps", "seed", "steps"):
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                setattr(self, name, int(value))  # 256.0 from a JSON or a slider is 256
            elif isinstance(value, bool) or not isinstance(value, int):
                raise EmocastError(f"{name.replace('_', ' ')} must be a whole number, got {value!r}")
        for name in ("intensity", "head_motion", "voice_strength", "max_audio_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise EmocastError(f"{name.replace('_', ' ')} must be a number, got {value!r}")
        if not 0 <= self.seed < 2**63:
            raise EmocastError(f"seed must be a whole number from 0 to 2^63 - 1, got {self.seed}")
        if not 0.0 <= self.intensity <= 1.0:
            raise EmocastError(f"intensity must be between 0 and 1, got {self.intensity}")
        if self.engine not in ENGINES:
            raise EmocastError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        if not 64 <= self.size <= 2048 or self.size % 2:
            raise EmocastError(f"size must be an even number of pixels between 64 and 2048, got {self.size}")
        if not 1 <= self.fps <= 60:
            raise EmocastError(f"fps must be between 1 and 60, got {self.fps}")
        if not 0.0 <= self.head_motion <= 1.0:
            raise EmocastError(f"head motion must be between 0 and 1, got {self.head_motion}")
        if not 0.0 <= self.voice_strength <= 1.0:
            raise EmocastError(f"voice strength must be between 0 and 1, got {self.voice_strength}")
        if not 0 < self.max_audio_seconds < float("inf"):
            raise EmocastError(f"max audio seconds must be a positive number, got {self.max_audio_seconds}")
        if self.steps < 1:
            raise EmocastError(f"steps must be at least 1, got {self.steps}")
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["weights"] = str(self.weights) if self.weights else None
        return d


def check_prompt(prompt: str) -> str:
    """Validate a user prompt (length, type) and return it stripped."""
    if not isinstance(prompt, str):
        raise EmocastError("the prompt must be text")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise EmocastError(f"the prompt has {len(prompt)} characters; keep it to {MAX_PROMPT_CHARS} at most")
    return prompt.strip()
