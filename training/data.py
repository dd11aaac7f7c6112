"""Training samples from the ETTH manifest: clips, emotion-aware pairs, phase mixtures.

- `load_clips` reads one or more dataset folders (``manifest.jsonl``) and applies the sync thresholds.
- `MixtureSampler` draws an endless stream of clips: a source by the stage's mixture weights
  (phase 1: in-the-wild + lab data, phase 2: MEAD + HDTF, phase 3: HDTF), then a clip of that source.
  Sample k of the run is a pure function of (seed, k), so a resumed run sees exactly the samples
  the uninterrupted run would have seen, whatever the number of workers or processes.
- `ClipDataset` turns (k, clip) into tensors. Stage 1 (image to image): a target frame and a
  reference frame; with emotion-aware sampling the reference comes from a neutral clip of the same
  identity, falling back to another frame of the same clip. Stage 2 (video): `num_frames`
  consecutive frames, the `motion_frames` before them, and the audio of those frames.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError
from emocast.video import open_media

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # Hz
AUDIO_CONTEXT_FRAMES = 2  # wav2vec2 window t-2..t+2 needs two frames of audio either side


@dataclass
class Clip:
    """One manifest row, with absolute paths."""

    id: str
    identity: str
    source: str
    emotion: str
    intensity: float
    texts: list[str]
    num_frames: int
    fps: float
    dir: Path
    sync: dict = field(default_factory=dict)
    wav2vec: Path | None = None  # stored (F, 12, 768) features, if the builder computed them

    @property
    def frames_path(self) -> Path:
        return self.dir / "frames.mp4"


def load_clips(
    roots: list[str | os.PathLike],
    min_sync: float | None = None,
    max_sync_distance: float | None = None,
    min_frames: int = 2,
) -> list[Clip]:
    """Every usable clip of the dataset folders, in manifest order.

    Args:
        roots: dataset folders made by `training.build_dataset`.
        min_sync: drop clips whose sync confidence (LSE-C, or the agreement confidence) is lower.
        max_sync_distance: drop clips whose LSE-D is higher.
        min_frames: drop clips shorter than this (frames).
    """
    from training.build_dataset import MANIFEST, sync_confidence

    clips, dropped = [], 0
    for root in roots:
        root = Path(root).expanduser()
        manifest = root / MANIFEST
        if not manifest.is_file():
            raise EmocastError(f"{manifest} does not exist; build the dataset with python -m training.build_dataset")
        for line in manifest.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            sync = row.get("sync") or {}
            if min_sync is not None and sync and sync_confidence(sync) < min_sync:
                dropped += 1
                continue
            if max_sync_distance is not None and sync.get("lse_d", 0.0) > max_sync_distance:
                dropped += 1
                continue
            if row["num_frames"] < min_frames:
                dropped += 1
                continue
            paths = row["paths"]
            clip_dir = root / paths["dir"]
            clips.append(
                Clip(
                    id=row["id"],
                    identity=row["identity"],
                    source=row["source"],
                    emotion=row["emotion"],
                    intensity=float(row["intensity"]),
                    texts=list(row["texts"]),
                    num_frames=int(row["num_frames"]),
                    fps=float(row.get("fps", 25)),
                    dir=clip_dir,
                    sync=sync,
                    wav2vec=clip_dir / paths["wav2vec"] if paths.get("wav2vec") else None,
                )
            )
    if dropped:
        logger.info("dropped %d clips (sync thresholds or too short)", dropped)
    if not clips:
        raise EmocastError(f"no usable clips in {', '.join(map(str, roots))}")
    return clips


def sample_rng(seed: int, index: int, salt: int = 0) -> np.random.Generator:
    """The random source of sample `index`: depends only on (seed, index, salt)."""
    return np.random.default_rng([seed, index, salt])


class MixtureSampler:
    """Endless (sample index, clip index) keys, sources drawn by mixture weight.

    Args:
        clips: the dataset's clips.
        mixture: source -> weight; sources without clips are ignored (with a warning); {} or None
            draws clips uniformly.
        seed: run seed.
        start: the first sample index (resume at step s: s * samples per step).
        rank, world_size: this process's share when training on several devices; process r takes
            samples r, r + world, r + 2 world, ...
        require_frames: only clips with at least this many frames (stage 2 windows).
    """

    def __init__(
        self,
        clips: list[Clip],
        mixture: dict[str, float] | None,
        seed: int,
        start: int = 0,
        rank: int = 0,
        world_size: int = 1,
        require_frames: int = 1,
    ) -> None:
        self.seed, self.start, self.rank, self.world_size = seed, start, rank, world_size
        by_source: dict[str, list[int]] = {}
        for i, clip in enumerate(clips):
            if clip.num_frames >= require_frames:
                by_source.setdefault(clip.source, []).append(i)
        if not by_source:
            raise EmocastError(f"no clip has the {require_frames} frames a sample needs; use shorter num_frames")
        if mixture:
            missing = [s for s, w in mixture.items() if w > 0 and s not in by_source]
            if missing:
                logger.warning("mixture names sources with no clips: %s", ", ".join(missing))
            weights = {s: float(w) for s, w in mixture.items() if w > 0 and s in by_source}
            if not weights:
                raise EmocastError(
                    f"the data mixture {mixture} matches no clips (sources present: {', '.join(sorted(by_source))})"
                )
        else:
            weights = {s: float(len(ids)) for s, ids in by_source.items()}
        self.sources = sorted(weights)
        total = sum(weights.values())
        self.probabilities = np.array([weights[s] / total for s in self.sources])
        self.by_source = by_source

    def key(self, index: int) -> tuple[int, int]:
        """(index, clip index) of global sample `index`."""
        rng = sample_rng(self.seed, index, salt=1)
        source = self.sources[int(rng.choice(len(self.sources), p=self.probabilities))]
        ids = self.by_source[source]
        return index, ids[int(rng.integers(len(ids)))]

    def __iter__(self):
        index = self.start * self.world_size + self.rank
        while True:
            yield self.key(index)
            index += self.world_size


class ClipDataset:
    """Map-style dataset indexed by the sampler's (sample index, clip index) keys.

    Args:
        clips: the dataset's clips.
        stage: 1 (image pairs) or 2 (frame windows with motion frames and audio).
        resolution: output frame side, pixels.
        seed: run seed (with the sample index it fixes every random choice of a sample).
        num_frames, motion_frames: stage 2 window.
        emotion_aware: stage 1 reference from a neutral clip of the same identity.
        text_dropout, audio_dropout, reference_dropout: classifier-free guidance dropouts.
        mask_resolution: side of the returned region masks (the network's latent side is enough).
    """

    def __init__(
        self,
        clips: list[Clip],
        stage: int,
        resolution: int,
        seed: int,
        num_frames: int = 14,
        motion_frames: int = 2,
        emotion_aware: bool = True,
        text_dropout: float = 0.0,
        audio_dropout: float = 0.0,
        reference_dropout: float = 0.0,
        mask_resolution: int | None = None,
    ) -> None:
        self.clips, self.stage, self.resolution, self.seed = clips, stage, resolution, seed
        self.num_frames, self.motion_frames = num_frames, motion_frames
        self.emotion_aware = emotion_aware
        self.text_dropout, self.audio_dropout, self.reference_dropout = text_dropout, audio_dropout, reference_dropout
        self.mask_resolution = mask_resolution or resolution
        self.neutral_by_identity: dict[str, list[int]] = {}
        for i, clip in enumerate(clips):
            if clip.emotion == "neutral":
                self.neutral_by_identity.setdefault(clip.identity, []).append(i)

    def __len__(self) -> int:  # the sampler is endless; this is only what DataLoader asks for
        return len(self.clips)

    def __getitem__(self, key: tuple[int, int]) -> dict:
        index, clip_index = key
        rng = sample_rng(self.seed, index, salt=2)
        clip = self.clips[clip_index]
        sample = self._stage1(clip, clip_index, rng) if self.stage == 1 else self._stage2(clip, rng)
        text = clip.texts[int(rng.integers(len(clip.texts)))] if clip.texts else ""
        sample["text"] = "" if rng.random() < self.text_dropout else text
        sample["drop_reference"] = bool(rng.random() < self.reference_dropout)
        sample["emotion"] = clip.emotion
        sample["intensity"] = clip.intensity
        sample["clip_id"] = clip.id
        return sample

    # --- stage 1: target frame + reference frame ---------------------------------------------------

    def reference_clip(self, clip: Clip, clip_index: int, rng: np.random.Generator) -> int:
        """Index of the clip the reference frame comes from (emotion-aware sampling)."""
        if self.emotion_aware and clip.emotion != "neutral":
            neutral = [i for i in self.neutral_by_identity.get(clip.identity, []) if i != clip_index]
            if neutral:
                return neutral[int(rng.integers(len(neutral)))]
        return clip_index

    def _stage1(self, clip: Clip, clip_index: int, rng: np.random.Generator) -> dict:
        import torch

        target_index = int(rng.integers(clip.num_frames))
        ref_clip_index = self.reference_clip(clip, clip_index, rng)
        ref_clip = self.clips[ref_clip_index]
        ref_index = int(rng.integers(ref_clip.num_frames))
        if ref_clip_index == clip_index and clip.num_frames > 1 and ref_index == target_index:
            ref_index = (ref_index + 1 + int(rng.integers(clip.num_frames - 1))) % clip.num_frames
        target = read_frames(clip.frames_path, [target_index], self.resolution)[0]
        reference = read_frames(ref_clip.frames_path, [ref_index], self.resolution)[0]
        masks = load_masks(clip.dir, self.mask_resolution)
        return {
            "pixel_values": _to_tensor(target),  # (3, H, W) in [-1, 1]
            "ref_pixel_values": _to_tensor(reference),
            "masks": torch.from_numpy(masks),  # (3, h, w): pose, expression, lip
            "face_region": torch.from_numpy(face_region(masks[1], self.resolution)),  # (3, H, W)
            "reference_clip_id": ref_clip.id,
        }

    # --- stage 2: frame window + motion frames + audio ----------------------------------------------

    def _stage2(self, clip: Clip, rng: np.random.Generator) -> dict:
        import torch

        window = self.num_frames + self.motion_frames
        if clip.num_frames < window:
            raise EmocastError(f"clip {clip.id} has {clip.num_frames} frames; a sample needs {window}")
        start = int(rng.integers(clip.num_frames - window + 1))
        indices = list(range(start, start + window))
        ref_index = int(rng.integers(clip.num_frames))
        frames = read_frames(clip.frames_path, sorted(set(indices + [ref_index])), self.resolution, as_dict=True)
        video = np.stack([frames[i] for i in indices])
        target_frames = list(range(start + self.motion_frames, start + window))
        masks = load_masks(clip.dir, self.mask_resolution)
        sample = {
            "pixel_values": _to_tensor(video[self.motion_frames :]),  # (F, 3, H, W)
            "motion_pixel_values": _to_tensor(video[: self.motion_frames]),  # (M, 3, H, W)
            "ref_pixel_values": _to_tensor(frames[ref_index]),  # (3, H, W)
            "masks": torch.from_numpy(masks),
            "face_region": torch.from_numpy(face_region(masks[1], self.resolution)),
            "drop_audio": bool(rng.random() < self.audio_dropout),
        }
        if clip.wav2vec is not None:
            features = np.load(clip.wav2vec, mmap_mode="r")
            sample["audio_features"] = torch.from_numpy(
                np.asarray(features[target_frames[0] : target_frames[-1] + 1], np.float32)
            )  # (F, L, C)
        else:
            # raw audio for frames [first - 2, last + 2]; the trainer's wav2vec2 encodes it
            lo = target_frames[0] - AUDIO_CONTEXT_FRAMES
            hi = target_frames[-1] + 1 + AUDIO_CONTEXT_FRAMES
            sample["audio_samples"] = torch.from_numpy(read_audio(clip.dir / "audio.wav", lo, hi, clip.fps))
        return sample


def collate(samples: list[dict]) -> dict:
    """Stack tensors, keep strings / flags as lists."""
    import torch

    batch = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        if isinstance(values[0], torch.Tensor) and all(v.shape == values[0].shape for v in values):
            batch[key] = torch.stack(values)
        else:
            batch[key] = values
    return batch


def _to_tensor(frames: np.ndarray):
    """uint8 (..., H, W, 3) -> float32 (..., 3, H, W) in [-1, 1]."""
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(frames)).float().div(127.5).sub(1.0)
    return tensor.movedim(-1, -3)


def read_frames(path: Path, indices: list[int], size: int, as_dict: bool = False):
    """Decode frames `indices` (sorted) of a clip video, resized to size x size RGB uint8.

    Seeks to the keyframe before the first wanted frame, so windows of long clips are cheap.
    """
    import cv2

    wanted = sorted(set(indices))
    out: dict[int, np.ndarray] = {}
    with open_media(path, "clip video") as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        first = wanted[0]
        if first > 0 and stream.time_base is not None:
            container.seek(int(first / fps / stream.time_base), stream=stream, backward=True, any_frame=False)
        for count, frame in enumerate(container.decode(stream)):
            index = int(round(float(frame.pts * stream.time_base) * fps)) if frame.pts is not None else count
            if index in wanted and index not in out:
                image = frame.to_ndarray(format="rgb24")
                if image.shape[0] != size or image.shape[1] != size:
                    interpolation = cv2.INTER_AREA if image.shape[0] > size else cv2.INTER_CUBIC
                    image = cv2.resize(image, (size, size), interpolation=interpolation)
                out[index] = image
            if index >= wanted[-1]:
                break
    missing = [i for i in wanted if i not in out]
    if missing:
        raise EmocastError(f"{path} ends before frame {missing[0]}")
    return out if as_dict else [out[i] for i in indices]


MASK_NAMES = ("pose", "expression", "lip")  # order of the (3, h, w) mask tensor: full/face/lip of attn2_0/1/2


def load_masks(clip_dir: Path, size: int) -> np.ndarray:
    """(3, size, size) float32 0..1 masks of a clip in MASK_NAMES order."""
    import cv2

    with np.load(clip_dir / "masks.npz") as masks:
        return np.stack(
            [cv2.resize(masks[name], (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0 for name in MASK_NAMES]
        )


FACE_REGION_EXPAND = 1.1  # the face locator sees the expression region's box, enlarged this much


def face_region(expression_mask: np.ndarray, size: int) -> np.ndarray:
    """(3, size, size) float32 box image (1 inside) around the face: the face locator's input."""
    out = np.zeros((3, size, size), np.float32)
    ys, xs = np.nonzero(expression_mask > 0.5)
    if len(xs) == 0:
        return out
    scale = size / expression_mask.shape[0]
    cx, cy = (xs.min() + xs.max() + 1) / 2 * scale, (ys.min() + ys.max() + 1) / 2 * scale
    hw, hh = (xs.max() + 1 - xs.min()) / 2 * scale * FACE_REGION_EXPAND, (ys.max() + 1 - ys.min()) / 2 * scale * FACE_REGION_EXPAND
    x0, x1 = int(max(0, np.floor(cx - hw))), int(min(size, np.ceil(cx + hw)))
    y0, y1 = int(max(0, np.floor(cy - hh))), int(min(size, np.ceil(cy + hh)))
    out[:, y0:y1, x0:x1] = 1.0
    return out


def read_audio(path: Path, first_frame: int, end_frame: int, fps: float) -> np.ndarray:
    """Samples of frames [first_frame, end_frame) at 16 kHz, zero-padded outside the recording."""
    import soundfile

    samples_per_frame = SAMPLE_RATE / fps
    lo, hi = int(round(first_frame * samples_per_frame)), int(round(end_frame * samples_per_frame))
    info = soundfile.info(str(path))
    start, stop = max(lo, 0), min(hi, info.frames)
    audio = soundfile.read(str(path), start=start, stop=max(stop, start), dtype="float32")[0] if stop > start else np.zeros(0, np.float32)
    return np.pad(audio, (start - lo, hi - lo - (start - lo) - len(audio))).astype(np.float32)
