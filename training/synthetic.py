"""A synthetic mini-dataset: short talking clips rendered by the mesh engine, named like the real sources.

The bundled public-domain portraits speak pieces of the bundled speech with prompts of known
emotion, and the files are laid out as MEAD (``<id>/video/front/<emotion>/level_<n>/<take>.mp4``),
HDTF (``WDA_<Name>_000.mp4``) and in-the-wild (``wild/<person>/<take>.mp4``) videos, so the whole
ETTH builder (label parsing, classifier labels, masks, sync scores, texts) and every stage and
phase of the trainer can run end to end without any downloaded data. Used by the tests and by
``training/configs/tiny.yaml``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
PORTRAITS = REPO / "assets" / "portraits"
SPEECH = REPO / "assets" / "speech" / "hello_en.wav"
# (relative path, portrait, prompt, intensity): MEAD identities M001 / W002, one HDTF and one wild clip
CLIPS: tuple[tuple[str, str, str, float], ...] = (
    ("M001/video/front/neutral/level_1/001.mp4", "astronaut.jpg", "calm, neutral face", 0.0),
    ("M001/video/front/angry/level_3/001.mp4", "astronaut.jpg", "furious, shouting angrily", 1.0),
    ("M001/video/front/happy/level_2/001.mp4", "astronaut.jpg", "happy, smiling warmly", 0.67),
    ("W002/video/front/neutral/level_1/001.mp4", "hdtf_speaker.jpg", "calm, neutral face", 0.0),
    ("W002/video/front/sad/level_2/001.mp4", "hdtf_speaker.jpg", "sad and close to tears", 0.67),
    ("WDA_Speaker_000.mp4", "hdtf_speaker.jpg", "calm, neutral face", 0.0),
    ("wild/astronaut/talk_001.mp4", "astronaut.jpg", "overjoyed, laughing", 1.0),
)


def make_synthetic_videos(out: str | Path, size: int = 128, seconds: float = 1.2, clips=CLIPS) -> list[Path]:
    """Render the mini-dataset's videos into `out` (skipping ones already there).

    Args:
        out: folder for the videos (layout as in CLIPS).
        size: frame side in pixels.
        seconds: length of each clip; each takes a different piece of the bundled speech.
    """
    import soundfile

    import emocast

    out = Path(out)
    samples, rate = soundfile.read(str(SPEECH), dtype="float32")
    length = int(seconds * rate)
    hop = max(1, (len(samples) - length) // max(len(clips) - 1, 1))
    audio_dir = out / ".speech"
    audio_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (rel, portrait, prompt, intensity) in enumerate(clips):
        path = out / rel
        paths.append(path)
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        piece = audio_dir / f"piece_{i:02d}.wav"
        soundfile.write(str(piece), samples[i * hop : i * hop + length], rate)
        emocast.generate(PORTRAITS / portrait, piece, prompt, intensity=max(intensity, 0.05), out=path, size=size, seed=i)
    return paths


def make_faceless_video(path: str | Path, size: int = 64, seconds: float = 0.6) -> Path:
    """A video of moving coloured noise with a tone: valid media without any face."""
    from emocast.video import VideoWriter

    rng = np.random.default_rng(0)
    fps, rate = 25, 16000
    tone = (0.2 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * rate)) / rate)).astype(np.float32)
    with VideoWriter(path, fps=fps, size=(size, size), audio_samples=tone, audio_rate=rate) as writer:
        for _ in range(int(seconds * fps)):
            writer.write(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    return Path(path)


def build_synthetic_dataset(folder: str | Path, size: int = 128, seconds: float = 1.2, workers: int = 1) -> Path:
    """Render the videos (once) and run the ETTH builder on them; returns the dataset folder."""
    from training.build_dataset import BuildOptions, build_dataset

    folder = Path(folder)
    videos = folder / "videos"
    make_synthetic_videos(videos, size=size, seconds=seconds)
    build_dataset(videos, folder / "dataset", BuildOptions(size=size, texts=4), workers=workers, progress=False)
    return folder / "dataset"
