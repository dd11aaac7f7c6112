"""Dataclasses of the "listen" stage: decoded audio and what the motion stage needs from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000  # Hz; everything downstream (VAD, phones, wav2vec2) works at 16 kHz mono


@dataclass
class AudioTrack:
    """Decoded speech: mono float32 samples in [-1, 1] at SAMPLE_RATE."""

    samples: np.ndarray  # (N,) float32
    sample_rate: int = SAMPLE_RATE
    source: Path | None = None  # the file it came from

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / float(self.sample_rate)


@dataclass
class Prosody:
    """Per video frame voice features."""

    fps: float
    loudness: np.ndarray  # (F,) float32, 0..1 (normalised RMS in dB over the clip)
    pitch: np.ndarray  # (F,) float32, Hz, 0 where unvoiced
    voiced: np.ndarray  # (F,) bool, voice activity


@dataclass
class VisemeTrack:
    """Per video frame mouth articulation, after coarticulation smoothing."""

    fps: float
    jaw: np.ndarray  # (F,) 0..1 jaw opening
    round: np.ndarray  # (F,) 0..1 lip rounding / protrusion (/uw ow w/)
    spread: np.ndarray  # (F,) 0..1 lip spread (/iy eh/)
    closed: np.ndarray  # (F,) 0..1 lips pressed together (/p b m/, silence)
    labels: list[str] = field(default_factory=list)  # (F,) viseme name per frame, for debugging
    phones: list[tuple[float, float, str]] = field(default_factory=list)  # (start s, end s, phone)
    method: str = "phones"  # "phones" (PocketSphinx) or "energy" (fallback)


@dataclass
class SpeechFeatures:
    """Everything the motion stage takes from the audio."""

    num_frames: int  # video frames covering the audio at `fps`
    fps: float
    prosody: Prosody
    visemes: VisemeTrack
