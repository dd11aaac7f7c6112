"""Build the ETTH training set (paper Sec. 3.3) from a folder of talking-head videos.

    python -m training.build_dataset --videos DIR --out DIR [--source mead|hdtf|wild] [--workers N]

Per video (one clip each), written to ``OUT/clips/<id>/``:

- ``frames.mp4``: the video at 25 fps, cropped to a fixed face-centred square (`--size`, 512);
- ``audio.wav``: its speech, 16 kHz mono;
- ``landmarks.npy``: (F, 478, 3) float32 MediaPipe landmarks per frame in crop pixels (NaN where lost);
- ``masks.npz``: ``lip``, ``expression``, ``pose`` uint8 masks (0/255) covering the clip's motion;
- ``wav2vec.npy``: (F, 12, 768) float16 wav2vec2 hidden states per video frame, when `--wav2vec` is given.

Each clip gets a lip-sync score (SyncNet LSE-C / LSE-D with `--syncnet` weights, otherwise the
project's audio-mouth agreement from `emocast.evaluation.lipsync`), an emotion label and
intensity (MEAD's file names, otherwise the emotion classifier), and several emotive text
descriptions (`training.texts`). One JSON row per clip goes to ``OUT/manifest.jsonl``; videos that
cannot be used (corrupt, no face, no audio, face lost, below the sync thresholds) go to
``OUT/skipped.jsonl`` with the reason. Both files are appended as clips finish, so an interrupted
build resumes where it stopped: a second run processes only videos it has not seen.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError
from training.labels import SOURCES, VideoLabels, parse_video_path
from training.texts import LLMConfig, describe_emotion

logger = logging.getLogger(__name__)

FPS = 25  # frames per second of every training clip (Hallo / EmoCAST train at 25 fps)
SAMPLE_RATE = 16000  # Hz
CROP_SIZE = 512  # pixels, side of the face crop
CROP_PROBES = 5  # frames, evenly spread, whose median landmarks fix the clip's crop square
MAX_LOST_FRACTION = 0.3  # clips where the face is lost in more frames than this are skipped
CLASSIFIER_FRAMES = 8  # frames the emotion classifier looks at when the source has no label
TEXTS_PER_CLIP = 5
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi", ".webm")
MANIFEST = "manifest.jsonl"
SKIPPED = "skipped.jsonl"
# MediaPipe points for the mouth-opening curve: inner-lip pairs (upper, lower) and the iris centres
_INNER_LIP_PAIRS = ((82, 87), (13, 14), (312, 317))
_IRIS_CENTRES = (468, 473)


@dataclass
class BuildOptions:
    """Settings of one build (the command-line flags)."""

    source: str | None = None  # force mead / hdtf / wild; None guesses per file
    size: int = CROP_SIZE  # crop side, pixels
    max_seconds: float = 0.0  # cut clips longer than this (seconds); 0 keeps everything
    wav2vec: str | None = None  # folder of facebook/wav2vec2-base-960h (config + weights)
    syncnet: str | None = None  # SyncNet weights file (syncnet_v2.model)
    min_sync: float | None = None  # skip clips whose sync confidence (LSE-C or agreement) is lower
    max_sync_distance: float | None = None  # skip clips whose LSE-D is higher (SyncNet only)
    texts: int = TEXTS_PER_CLIP
    seed: int = 0
    llm: LLMConfig | None = None


@dataclass
class ClipResult:
    """What processing one video gave: a manifest row, or a reason to skip it."""

    video: str  # path relative to the videos folder (the resume key)
    row: dict | None = None
    reason: str | None = None
    seconds: float = 0.0  # processing time
    extra: dict = field(default_factory=dict)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.build_dataset", description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", required=True, type=Path, help="folder searched recursively for videos")
    parser.add_argument("--out", required=True, type=Path, help="dataset folder (created; resumed if it exists)")
    parser.add_argument("--source", choices=SOURCES, help="where the videos come from (default: guess per file)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="parallel processes")
    parser.add_argument("--size", type=int, default=CROP_SIZE, help="face crop side in pixels")
    parser.add_argument("--max-seconds", type=float, default=0.0, help="cut longer clips (seconds); 0 = keep all")
    parser.add_argument("--wav2vec", help="local folder of facebook/wav2vec2-base-960h to store audio features")
    parser.add_argument("--syncnet", help="SyncNet weights (syncnet_v2.model) for LSE-C / LSE-D")
    parser.add_argument("--min-sync", type=float, help="skip clips with a lower sync confidence")
    parser.add_argument("--max-sync-distance", type=float, help="skip clips with a higher LSE-D")
    parser.add_argument("--texts", type=int, default=TEXTS_PER_CLIP, help="text descriptions per clip")
    parser.add_argument("--llm-url", help="OpenAI-compatible chat endpoint for the texts (or $EMOCAST_LLM_URL)")
    parser.add_argument("--llm-model", default="default", help="model name sent to the LLM endpoint")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

    llm = LLMConfig(url=args.llm_url, model=args.llm_model, api_key=os.environ.get("EMOCAST_LLM_KEY")) if args.llm_url else LLMConfig.from_env()
    options = BuildOptions(
        source=args.source, size=args.size, max_seconds=args.max_seconds, wav2vec=args.wav2vec,
        syncnet=args.syncnet, min_sync=args.min_sync, max_sync_distance=args.max_sync_distance,
        texts=args.texts, seed=args.seed, llm=llm,
    )  # fmt: skip
    try:
        summary = build_dataset(args.videos, args.out, options, workers=args.workers)
    except EmocastError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


def build_dataset(
    videos: str | os.PathLike,
    out: str | os.PathLike,
    options: BuildOptions | None = None,
    workers: int = 1,
    progress: bool = True,
) -> dict:
    """Process every video under `videos` not yet in `out`'s manifest; return counts.

    Args:
        videos: folder searched recursively for video files.
        out: dataset folder; its manifest.jsonl / skipped.jsonl are appended to.
        options: build settings; defaults to BuildOptions().
        workers: parallel processes (1 runs in this process).
        progress: show a tqdm progress bar.

    Returns:
        {"found", "already_done", "processed", "skipped", "seconds"}.
    """
    options = options or BuildOptions()
    videos, out = Path(videos).expanduser(), Path(out).expanduser()
    if not videos.is_dir():
        raise EmocastError(f"--videos {videos} is not a folder; give the folder that holds the videos")
    paths = sorted(p for p in videos.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    out.mkdir(parents=True, exist_ok=True)
    (out / "clips").mkdir(exist_ok=True)
    done = _seen_videos(out)
    todo = [p for p in paths if p.relative_to(videos).as_posix() not in done]
    logger.info("%d videos found, %d already done, %d to process", len(paths), len(paths) - len(todo), len(todo))

    start = time.perf_counter()
    counts = {"found": len(paths), "already_done": len(paths) - len(todo), "processed": 0, "skipped": 0}
    jobs = [(p, videos, out, options) for p in todo]
    with open(out / MANIFEST, "a") as manifest, open(out / SKIPPED, "a") as skipped:
        for result in _run_jobs(jobs, workers, progress):
            if result.row is not None:
                manifest.write(json.dumps(result.row) + "\n")
                manifest.flush()
                counts["processed"] += 1
            else:
                logger.warning("skipped %s: %s", result.video, result.reason)
                skipped.write(json.dumps({"video": result.video, "reason": result.reason}) + "\n")
                skipped.flush()
                counts["skipped"] += 1
    counts["seconds"] = round(time.perf_counter() - start, 2)
    return counts


def _run_jobs(jobs: list[tuple], workers: int, progress: bool):
    from tqdm import tqdm

    bar = tqdm(total=len(jobs), unit="video", disable=not progress or not jobs, file=sys.stderr)
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield process_video_safe(*job)
            bar.update()
    else:
        import multiprocessing

        # spawn: MediaPipe and torch do not survive fork reliably
        context = multiprocessing.get_context("spawn")
        with context.Pool(min(workers, len(jobs)), initializer=_worker_init) as pool:
            for result in pool.imap_unordered(_process_job, jobs):
                yield result
                bar.update()
    bar.close()


def _worker_init() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one process per core already
    logging.basicConfig(level=logging.WARNING)


def _process_job(job: tuple) -> ClipResult:
    return process_video_safe(*job)


def _seen_videos(out: Path) -> set[str]:
    seen = set()
    for name in (MANIFEST, SKIPPED):
        path = out / name
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    try:
                        seen.add(json.loads(line)["video"])
                    except (json.JSONDecodeError, KeyError):
                        continue  # a line cut by an interrupted run; that video is redone
    return seen


def process_video_safe(path: Path, root: Path, out: Path, options: BuildOptions) -> ClipResult:
    """process_video that turns any failure on one video into a skip with its reason."""
    rel = path.relative_to(root).as_posix()
    start = time.perf_counter()
    try:
        result = process_video(path, root, out, options)
    except EmocastError as e:
        result = ClipResult(video=rel, reason=str(e))
    except Exception as e:  # noqa: BLE001 - one broken video must never stop a build of thousands
        logger.debug("failed on %s", rel, exc_info=True)
        result = ClipResult(video=rel, reason=f"{type(e).__name__}: {e}")
    result.seconds = time.perf_counter() - start
    return result


def process_video(path: Path, root: Path, out: Path, options: BuildOptions) -> ClipResult:
    """Crop, landmark, mask, label, describe and score one video; write its clip folder.

    Raises:
        EmocastError: the video cannot be used (the reason is the message).
    """
    from emocast.audio.load import load_audio
    from emocast.video import probe

    rel = path.relative_to(root).as_posix()
    labels = parse_video_path(path, root, options.source)
    info = probe(path)
    if info.num_frames < 2 or info.fps <= 0:
        raise EmocastError(f"{rel} has no usable video frames")
    if info.audio_codec is None:
        raise EmocastError(f"{rel} has no audio track")

    clip_dir = out / "clips" / labels.clip_id
    tmp_dir = out / "clips" / f".{labels.clip_id}.tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    try:
        # 1. a fixed face-centred crop square for the whole clip
        crop_box = _clip_crop_box(path, info, rel)
        # 2. 25 fps crop video + per-frame landmarks
        landmarks = _write_crop_video(path, tmp_dir / "frames.mp4", crop_box, options)
        lost = float(np.isnan(landmarks[:, 0, 0]).mean())
        if lost > MAX_LOST_FRACTION:
            raise EmocastError(f"the face is lost in {lost:.0%} of the frames of {rel}")
        np.save(tmp_dir / "landmarks.npy", landmarks)
        num_frames = len(landmarks)
        # 3. region masks covering the clip's motion
        masks = clip_masks(landmarks, options.size)
        np.savez_compressed(tmp_dir / "masks.npz", **masks)
        # 4. audio, 16 kHz mono, cut to the frames
        track = load_audio(path, max_seconds=max(info.duration, options.max_seconds) + 60)
        samples = track.samples[: int(round(num_frames / FPS * SAMPLE_RATE))]
        _write_wav(tmp_dir / "audio.wav", samples)
        wav2vec_path = None
        if options.wav2vec:
            from training.audio_features import wav2vec_features

            features = wav2vec_features(samples, num_frames, options.wav2vec)
            np.save(tmp_dir / "wav2vec.npy", features.astype(np.float16))
            wav2vec_path = "wav2vec.npy"
        # 5. lip-sync score and thresholds
        sync = sync_score(tmp_dir / "frames.mp4", landmarks, samples, options)
        _check_sync(sync, options, rel)
        # 6. emotion label and intensity: the source's own, else the classifier's
        emotion, intensity, label_source = _emotion_label(labels, tmp_dir / "frames.mp4", landmarks)
        # 7. emotive texts
        rng = random.Random(zlib.crc32(f"{options.seed}:{labels.clip_id}".encode()))
        texts = describe_emotion(emotion, intensity, rng, count=options.texts, llm=options.llm)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    shutil.rmtree(clip_dir, ignore_errors=True)
    os.replace(tmp_dir, clip_dir)

    row = {
        "id": labels.clip_id,
        "identity": labels.identity,
        "source": labels.source,
        "emotion": emotion,
        "intensity": round(float(intensity), 4),
        "label_source": label_source,
        "texts": texts,
        "sync": sync,
        "num_frames": num_frames,
        "fps": FPS,
        "size": options.size,
        "video": rel,
        "paths": {
            "dir": f"clips/{labels.clip_id}",
            "frames": "frames.mp4",
            "audio": "audio.wav",
            "landmarks": "landmarks.npy",
            "masks": "masks.npz",
            "wav2vec": wav2vec_path,
        },
    }
    if labels.view:
        row["view"] = labels.view
    return ClipResult(video=rel, row=row)


# --- 1-2. crop and landmarks ----------------------------------------------------------------------


def _frames_at_fps(path: Path, fps: float, max_seconds: float = 0.0):
    """Decode RGB frames resampled to `fps` by nearest timestamp (drops or repeats frames)."""
    import av

    from emocast.video import open_media

    with open_media(path, "video") as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        next_index = 0
        try:
            for frame in container.decode(stream):
                t = float(frame.pts * stream.time_base) if frame.pts is not None else next_index / fps
                if max_seconds and t >= max_seconds:
                    break
                image = None
                # emit every output frame whose time this input frame is the nearest to
                while next_index / fps < t + 0.5 / float(stream.average_rate or fps):
                    if image is None:
                        image = frame.to_ndarray(format="rgb24")
                    yield image
                    next_index += 1
        except av.error.FFmpegError as e:
            if next_index == 0:
                raise EmocastError(f"cannot decode video {path.name}: {e}") from e
            logger.warning("%s: decoding stopped after %d frames (%s)", path.name, next_index, e)


def _clip_crop_box(path: Path, info, rel: str) -> tuple[int, int, int]:
    """The crop square (x0, y0, side) from the median landmarks of a few frames spread over the clip."""
    from emocast.face.crop import crop_square
    from emocast.face.detect import detect_face

    wanted = set(np.linspace(0, max(info.num_frames - 1, 0), CROP_PROBES).round().astype(int).tolist())
    found, height, width = [], info.height, info.width
    for index, frame in enumerate(_frames_at_fps(path, info.fps or FPS)):
        if index in wanted:
            height, width = frame.shape[:2]
            try:
                found.append(detect_face(frame, source=rel).landmarks)
            except EmocastError:
                pass
        if index >= max(wanted):
            break
    if not found:
        raise EmocastError(f"no face found in {rel}")
    return crop_square(np.median(np.stack(found), axis=0), height, width)


def _write_crop_video(path: Path, out: Path, crop_box: tuple[int, int, int], options: BuildOptions) -> np.ndarray:
    """Write the 25 fps crop video; return (F, 478, 3) float32 landmarks in crop pixels (NaN if lost)."""
    from emocast.face.crop import extract_square
    from emocast.face.detect import detect_face
    from emocast.face.geometry import NUM_LANDMARKS
    from emocast.video import VideoWriter

    x0, y0, side = crop_box
    landmarks = []
    with VideoWriter(out, fps=FPS, size=(options.size, options.size)) as writer:
        for frame in _frames_at_fps(path, FPS, options.max_seconds):
            crop, _ = extract_square(frame, x0, y0, side, options.size)
            writer.write(crop)
            try:
                landmarks.append(detect_face(crop).landmarks)
            except EmocastError:
                landmarks.append(np.full((NUM_LANDMARKS, 3), np.nan, np.float32))
    if len(landmarks) < 2:
        raise EmocastError(f"{path.name} is shorter than two frames")
    return np.stack(landmarks).astype(np.float32)


# --- 3. masks ----------------------------------------------------------------------------------------

MASK_PROBES = 16  # frames whose masks are combined (spread over the clip)


def clip_masks(landmarks: np.ndarray, size: int) -> dict[str, np.ndarray]:
    """Lip / expression / pose masks (uint8 0 or 255, (size, size)) covering every probed frame.

    Args:
        landmarks: (F, 478, 3) per-frame landmarks in crop pixels, NaN where the face was lost.
        size: crop side in pixels.
    """
    from emocast.face.masks import region_masks

    valid = np.flatnonzero(~np.isnan(landmarks[:, 0, 0]))
    probes = valid[np.linspace(0, len(valid) - 1, min(MASK_PROBES, len(valid))).round().astype(int)]
    union: dict[str, np.ndarray] = {}
    for index in probes:
        for name, mask in region_masks(landmarks[index], (size, size)).items():
            union[name] = np.maximum(union.get(name, 0), np.asarray(mask, np.float32))
    return {name: (mask > 0.5).astype(np.uint8) * 255 for name, mask in union.items()}


# --- 4. audio ----------------------------------------------------------------------------------------


def _write_wav(path: Path, samples: np.ndarray) -> None:
    import soundfile

    soundfile.write(str(path), np.asarray(samples, np.float32), SAMPLE_RATE, subtype="PCM_16")


# --- 5. lip sync -------------------------------------------------------------------------------------


def mouth_opening(landmarks: np.ndarray) -> np.ndarray:
    """(F,) inner-lip gap per frame in interocular units (iris centre distance); NaN where lost."""
    upper = landmarks[:, [u for u, _ in _INNER_LIP_PAIRS], :2]
    lower = landmarks[:, [v for _, v in _INNER_LIP_PAIRS], :2]
    gap = np.linalg.norm(lower - upper, axis=-1).mean(axis=1)
    eyes = np.linalg.norm(landmarks[:, _IRIS_CENTRES[0], :2] - landmarks[:, _IRIS_CENTRES[1], :2], axis=-1)
    return gap / np.maximum(eyes, 1e-6)


def sync_score(video: Path, landmarks: np.ndarray, samples: np.ndarray, options: BuildOptions) -> dict:
    """Lip-sync score of a clip: SyncNet LSE-C/LSE-D with weights, else the audio-mouth agreement."""
    if options.syncnet:
        from emocast.evaluation import syncnet

        result = syncnet.sync_confidence(video, weights=options.syncnet)
        return {"method": "syncnet", "lse_c": float(result.lse_c), "lse_d": float(result.lse_d),
                "offset_frames": int(result.offset)}  # fmt: skip
    from emocast.evaluation.lipsync import lip_sync

    result = lip_sync(mouth_opening(landmarks), samples, fps=FPS, bilabials=False)
    return {
        "method": "agreement",
        "confidence": round(float(result.confidence), 4),
        "peak_correlation": round(float(result.peak), 4),
        "offset_frames": int(result.best_lag),
        "mouth_motion": round(float(result.mouth_motion), 4),
    }


def sync_confidence(sync: dict) -> float:
    """The one number thresholds compare: LSE-C for SyncNet, the agreement confidence otherwise."""
    return float(sync["lse_c"] if sync["method"] == "syncnet" else sync["confidence"])


def _check_sync(sync: dict, options: BuildOptions, rel: str) -> None:
    if options.min_sync is not None and sync_confidence(sync) < options.min_sync:
        raise EmocastError(f"lip sync of {rel} is below the threshold ({sync_confidence(sync):.3f} < {options.min_sync})")
    if options.max_sync_distance is not None and sync.get("lse_d", 0.0) > options.max_sync_distance:
        raise EmocastError(f"LSE-D of {rel} is above the threshold ({sync['lse_d']:.3f} > {options.max_sync_distance})")


# --- 6. emotion label --------------------------------------------------------------------------------


def _emotion_label(labels: VideoLabels, video: Path, landmarks: np.ndarray) -> tuple[str, float, str]:
    """(emotion, intensity 0..1, where it came from: "source" or "classifier")."""
    if labels.emotion is not None and labels.intensity is not None:
        return labels.emotion, float(labels.intensity), "source"
    return (*classify_clip(video, landmarks), "classifier")


def classify_clip(video: Path, landmarks: np.ndarray) -> tuple[str, float]:
    """Emotion and intensity of a clip from the evaluation classifier, averaged over a few frames.

    Intensity is the winning probability scaled from chance level (1/num_labels) to 1: a weak
    proxy, since a classifier's confidence is not how strong an expression is (0 for neutral).
    """
    from emocast.evaluation.emotion_classifier import classify_image, normalise_label
    from emocast.video import iter_frames

    valid = set(np.flatnonzero(~np.isnan(landmarks[:, 0, 0])).tolist())
    wanted = set(np.linspace(0, len(landmarks) - 1, CLASSIFIER_FRAMES).round().astype(int).tolist()) & valid
    total: dict[str, float] = {}
    seen = 0
    for index, frame in enumerate(iter_frames(video)):
        if index in wanted:
            try:
                probs = classify_image(frame)
            except EmocastError:
                continue
            for label, p in probs.items():
                total[normalise_label(label)] = total.get(normalise_label(label), 0.0) + p
            seen += 1
    if not seen:
        raise EmocastError(f"the emotion classifier found no face in {video.parent.name}")
    emotion = max(total, key=total.get)
    chance = 1.0 / len(total)
    top = total[emotion] / seen
    intensity = 0.0 if emotion == "neutral" else float(np.clip((top - chance) / (1 - chance), 0.0, 1.0))
    return emotion, intensity


if __name__ == "__main__":
    sys.exit(main())
