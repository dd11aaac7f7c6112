"""Sanity checks of the metrics themselves on real data (a real talking head, real portraits).

A metric is only useful if it ranks known-good above known-bad: the real recording must beat the
same recording with its audio delayed by 0.5 s, which must beat a frozen frame; a known audio
delay must move the measured offset by that much; a smiling face must be classified happy and a
neutral one not; two frames of one person must be closer than two different people; shaking a
video must raise its jitter. `run_sanity()` returns these as table rows (also in batch reports).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
REAL_VIDEO = Path("/work/shared/fixtures/real_talking_head_hdtf_wda.mp4")
SMILING = REPO / "assets" / "portraits" / "astronaut.jpg"
NEUTRAL = REPO / "assets" / "portraits" / "hdtf_speaker.jpg"
DELAY_SECONDS = 0.5
SHIFT_FRAMES = 4  # a small known delay whose measured offset change is checked


def find_real_video() -> Path | None:
    """The real talking-head clip: $EMOCAST_SANITY_VIDEO, else the shared fixture, else None."""
    import os

    for candidate in (os.environ.get("EMOCAST_SANITY_VIDEO"), REAL_VIDEO, REPO.parent / "shared" / "fixtures" / REAL_VIDEO.name):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _ffmpeg(*args: str) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", *args], check=True)


def delayed_audio(video: Path, out: Path, seconds: float) -> Path:
    """The same video with its audio delayed by `seconds` (video stream copied)."""
    _ffmpeg("-i", str(video), "-itsoffset", f"{seconds}", "-i", str(video), "-map", "0:v", "-map", "1:a",
            "-c:v", "copy", "-c:a", "aac", str(out))
    return out


def frozen_frame(video: Path, out: Path) -> Path:
    """The video's first frame repeated for its whole length, with its audio."""
    from PIL import Image

    from emocast.video import iter_frames, probe

    info = probe(video)
    still = out.with_suffix(".png")
    Image.fromarray(next(iter_frames(video))).save(still)
    _ffmpeg("-loop", "1", "-framerate", f"{info.fps:g}", "-i", str(still), "-i", str(video), "-map", "0:v", "-map", "1:a",
            "-t", f"{info.duration:.3f}", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", str(out))
    return out


def mouth_curve(video: Path, max_frames: int | None = None) -> np.ndarray:
    """Mouth opening per frame (NaN without a face), as evaluate() measures it."""
    from emocast.evaluation.landmarks import track_landmarks
    from emocast.video import iter_frames

    return np.array([f.mouth_opening if f else np.nan for _, f in track_landmarks(iter_frames(video, max_frames))])


def lip_sync_checks(video: Path, workdir: Path) -> list[dict]:
    from emocast.evaluation.lipsync import lip_sync, read_audio
    from emocast.video import probe

    fps = probe(video).fps
    mouth = mouth_curve(video)  # the delayed copies share these very frames
    real = lip_sync(mouth, read_audio(video), fps, bilabials=False)
    late = lip_sync(mouth, read_audio(delayed_audio(video, workdir / "delayed.mp4", DELAY_SECONDS)), fps, bilabials=False)
    shifted = lip_sync(mouth, read_audio(delayed_audio(video, workdir / "shifted.mp4", SHIFT_FRAMES / fps)), fps, bilabials=False)
    frozen_video = frozen_frame(video, workdir / "frozen.mp4")
    frozen = lip_sync(mouth_curve(frozen_video), read_audio(frozen_video), fps, bilabials=False)
    moved = shifted.best_lag - real.best_lag
    return [
        {"name": "lip sync: real recording, peak r", "value": f"{real.peak:.3f} (lag {real.best_lag:+d})", "expect": "> delayed",
         "passed": real.peak > late.peak, "lag_curve": {"lags": real.lags, "correlations": real.correlations}, "score": real.peak},
        {"name": f"lip sync: audio delayed {DELAY_SECONDS} s, peak r", "value": f"{late.peak:.3f} (lag {late.best_lag:+d})", "expect": "> frozen",
         "passed": late.peak > frozen.peak, "lag_curve": {"lags": late.lags, "correlations": late.correlations}, "score": late.peak},
        {"name": "lip sync: frozen first frame, peak r", "value": f"{frozen.peak:.3f} (mouth motion {frozen.mouth_motion:.4f})",
         "expect": "lowest", "passed": frozen.peak < real.peak, "score": frozen.peak},
        {"name": f"lip sync: audio delayed {SHIFT_FRAMES} frames, offset change", "value": f"{moved:+d} frames",
         "expect": f"{SHIFT_FRAMES:+d} +- 2", "passed": abs(moved - SHIFT_FRAMES) <= 2, "score": moved},
        {"name": "lip sync: real recording, best lag", "value": f"{real.best_lag:+d} frames", "expect": "within +-2 if the clip is in sync",
         "passed": abs(real.best_lag) <= 2, "score": real.best_lag},
    ]


def emotion_checks() -> list[dict]:
    from PIL import Image

    from emocast.evaluation.emotion_classifier import classify_image

    smiling = classify_image(np.asarray(Image.open(SMILING).convert("RGB")))
    neutral = classify_image(np.asarray(Image.open(NEUTRAL).convert("RGB")))
    chance = 1 / len(smiling)
    return [
        {"name": "emotion: smiling portrait (astronaut), p(happy)", "value": f"{smiling['happy']:.3f} ({max(smiling, key=smiling.get)})",
         "expect": f"top class happy, > chance {chance:.2f}", "passed": max(smiling, key=smiling.get) == "happy", "score": smiling["happy"]},
        {"name": "emotion: closed-mouth speaker portrait, p(happy)", "value": f"{neutral['happy']:.3f} ({max(neutral, key=neutral.get)})",
         "expect": "< 0.5, not happy", "passed": neutral["happy"] < 0.5 and max(neutral, key=neutral.get) != "happy", "score": neutral["happy"]},
    ]


def identity_checks(video: Path) -> list[dict]:
    from PIL import Image

    from emocast.evaluation.identity import SAME_PERSON, dlib_descriptor
    from emocast.evaluation.landmarks import face_landmarks
    from emocast.video import iter_frames

    def descriptor(rgb: np.ndarray) -> np.ndarray:
        face = face_landmarks(rgb)
        assert face is not None, "sanity images have faces"
        return dlib_descriptor(rgb, face.points)

    frames = [f for i, f in enumerate(iter_frames(video, max_frames=101)) if i in (0, 100)]
    same = float(np.linalg.norm(descriptor(frames[0]) - descriptor(frames[1])))
    other = float(np.linalg.norm(descriptor(np.asarray(Image.open(SMILING).convert("RGB"))) - descriptor(np.asarray(Image.open(NEUTRAL).convert("RGB")))))
    return [
        {"name": "identity: two frames of one person", "value": f"{same:.3f}", "expect": f"< {SAME_PERSON}", "passed": same < SAME_PERSON, "score": same},
        {"name": "identity: two different people", "value": f"{other:.3f}", "expect": f"> {SAME_PERSON}", "passed": other > SAME_PERSON, "score": other},
    ]


def shaken(frames: list[np.ndarray], pixels: float, seed: int = 0) -> list[np.ndarray]:
    """Frames translated by independent random offsets of about `pixels` (synthetic camera shake)."""
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for frame in frames:
        dx, dy = rng.normal(0, pixels, 2)
        m = np.float32([[1, 0, dx], [0, 1, dy]])
        out.append(cv2.warpAffine(frame, m, (frame.shape[1], frame.shape[0]), borderMode=cv2.BORDER_REPLICATE))
    return out


def stability_checks(video: Path, num_frames: int = 50) -> list[dict]:
    from emocast.evaluation.landmarks import track_landmarks
    from emocast.evaluation.stability import landmark_jitter
    from emocast.video import iter_frames

    def jitter(frames):
        faces = [f for _, f in track_landmarks(iter(frames))]
        return landmark_jitter([f.points if f else None for f in faces], [f.interocular if f else None for f in faces])

    frames = list(iter_frames(video, max_frames=num_frames))
    original, shook = jitter(frames), jitter(shaken(frames, pixels=0.01 * frames[0].shape[1]))
    return [
        {"name": "stability: real recording, jitter", "value": f"{original:.4f}", "expect": "< shaken", "passed": original < shook, "score": original},
        {"name": "stability: same with 1% random shake, jitter", "value": f"{shook:.4f}", "expect": "> real", "passed": shook > original, "score": shook},
    ]


def run_sanity(video: Path | None = None) -> list[dict]:
    """Run every check; rows have name, value, expect, passed, score (and lag_curve for lip sync).

    Args:
        video: a real talking-head clip with audio (default: `find_real_video()`); without one
            only the image checks run.
    """
    video = video or find_real_video()
    rows = emotion_checks()
    if video is None:
        rows.append({"name": "lip sync / identity / stability checks", "value": "skipped", "expect": "a real talking-head video",
                     "passed": False, "score": None})
        return rows
    with tempfile.TemporaryDirectory(prefix="emocast-sanity-") as tmp:
        rows += lip_sync_checks(video, Path(tmp))
    rows += identity_checks(video)
    rows += stability_checks(video)
    return rows
