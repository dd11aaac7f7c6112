"""evaluate(): judge one generated video; evaluate_batch(): judge a manifest and write a report.

Every metric uses models the generator does not use (dlib landmarks and descriptors, fer's
FER2013 classifier, pocketsphinx phones), so a video is never judged by the model that made it.
The video is decoded once, streaming: landmarks and lip sync on every frame; the emotion
classifier on SAMPLE_FPS frames per second; identity on at most IDENTITY_FRAMES frames.
Unavailable metrics are present with {"value": None, "reason": ...}, never a made-up number.
"""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError

SAMPLE_FPS = 5.0  # frames per second given to the emotion classifier
IDENTITY_FRAMES = 8  # frames compared with the reference portrait (dlib descriptor ~0.15 s each)
THUMBNAIL_SIDE = 160  # pixels, frames kept for the contact sheet
THUMBNAILS = 3  # frames kept per video for the contact sheet


@dataclass
class VideoEvaluation:
    """Metrics of one video plus what the report draws (not part of the JSON)."""

    metrics: dict
    thumbnails: list[np.ndarray] = field(default_factory=list)  # (S, S, 3) uint8


def evaluate(
    video: str | os.PathLike,
    reference: str | os.PathLike | None = None,
    emotion: str | None = None,
    bilabials: bool = True,
) -> dict:
    """Measure emotion, lip sync, identity, stability and quality of one video.

    Args:
        video: the video to judge (.mp4/.mov/...; lip sync needs its audio track).
        reference: the portrait (image) or a real video of the person: identity (and FID) reference.
        emotion: the intended emotion (angry, contempt, disgusted, fear, happy, neutral, sad,
            surprised, or a common spelling); enables the accuracy fields.
        bilabials: judge mouth closure on p/b/m phones (pocketsphinx, ~0.1 s per second of audio).

    Returns:
        A JSON-serialisable nested dict; see `format_metrics` for a readable view.

    Raises:
        EmocastError: unreadable video or reference.
    """
    return _evaluate(Path(video), Path(reference) if reference else None, emotion, bilabials).metrics


def _evaluate(video: Path, reference: Path | None, emotion: str | None, bilabials: bool = True) -> VideoEvaluation:
    from emocast.evaluation import emotion_classifier as ec
    from emocast.evaluation.landmarks import track_landmarks
    from emocast.evaluation.lipsync import lip_sync, read_audio
    from emocast.evaluation.stability import flicker, landmark_jitter, small_grey
    from emocast.video import iter_frames, probe

    started = time.perf_counter()
    if not video.is_file():
        raise EmocastError(f"video {video} does not exist")
    info = probe(video)
    fps = info.fps or 25.0
    classifier = ec.get_classifier()
    ref = _load_reference(reference) if reference is not None else None

    # 1. one streaming pass: landmarks on every frame, classifier/identity/thumbnails on samples
    step = max(1, int(round(fps / SAMPLE_FPS)))
    identity_at = set(np.linspace(0, max(info.num_frames - 1, 0), IDENTITY_FRAMES).round().astype(int).tolist())
    thumb_at = set(np.linspace(0, max(info.num_frames - 1, 0), THUMBNAILS + 2)[1:-1].round().astype(int).tolist())
    mouth, points, interocular, boxes, greys = [], [], [], [], []
    probs, identity_faces, thumbnails, real_frames = [], [], [], []
    for i, (frame, face) in enumerate(track_landmarks(iter_frames(video))):
        greys.append(small_grey(frame))
        points.append(None if face is None else face.points)
        interocular.append(None if face is None else face.interocular)
        boxes.append(None if face is None else face.box)
        mouth.append(np.nan if face is None else face.mouth_opening)
        if face is not None and i % step == 0:
            probs.append(classifier.predict(ec.face_crop(frame, face.points)))
        if face is not None and ref is not None and i in identity_at:
            identity_faces.append((frame, face.points))
        if i in identity_at:
            real_frames.append(frame)
        if i in thumb_at:
            thumbnails.append(_thumbnail(frame))
    num_frames = len(mouth)
    if num_frames == 0:
        raise EmocastError(f"{video} has no decodable frames")
    faces_found = float(np.mean([p is not None for p in points]))

    # 2. metrics
    metrics: dict = {
        "video": {
            "path": str(video),
            "frames": num_frames,
            "fps": round(fps, 3),
            "duration_s": round(num_frames / fps, 3),
            "size": [info.width, info.height],
            "has_audio": info.audio_codec is not None,
        },
        "faces_found": round(faces_found, 4),
        "emotion": _emotion_metrics(probs, classifier, emotion),
    }
    samples = read_audio(video)
    if samples is None or samples.size == 0:
        metrics["lip_sync"] = {"value": None, "reason": "the video has no audio track"}
    elif faces_found == 0:
        metrics["lip_sync"] = {"value": None, "reason": "no face found in the video"}
    else:
        metrics["lip_sync"] = lip_sync(np.array(mouth), samples, fps, bilabials=bilabials).to_dict()
    metrics["syncnet"] = _syncnet(video)
    metrics["identity"] = _identity_metrics(ref, identity_faces, reference)
    jitter = landmark_jitter(points, interocular)
    metrics["stability"] = {
        "landmark_jitter": None if jitter is None else round(jitter, 5),
        **flicker(greys, boxes, (info.width, info.height)),
    }
    metrics["quality"] = {"fid": _fid(ref, real_frames)}
    metrics["speed"] = {
        "value": None,
        "reason": "speed is a property of a generation: see emocast.evaluation.speed.measure / benchmarks/bench_quality.py",
    }
    metrics["evaluation_seconds"] = round(time.perf_counter() - started, 3)
    return VideoEvaluation(metrics=metrics, thumbnails=thumbnails)


@dataclass
class _Reference:
    descriptor: np.ndarray | None  # dlib 128-d, None when no face in it
    points: np.ndarray | None  # (68, 2) landmarks of that face
    face_index: int  # which of `frames` the face is in
    frames: list[np.ndarray]  # real frames for FID (a reference video), else [the image]
    is_video: bool


def _load_reference(path: Path) -> _Reference:
    from emocast.evaluation.identity import dlib_descriptor
    from emocast.evaluation.landmarks import face_landmarks
    from emocast.video import VIDEO_SUFFIXES, iter_frames, probe

    if not path.is_file():
        raise EmocastError(f"reference {path} does not exist")
    if path.suffix.lower() in VIDEO_SUFFIXES + (".webm", ".mkv", ".avi"):
        n = probe(path).num_frames
        keep = set(np.linspace(0, max(n - 1, 0), 32).round().astype(int).tolist())
        frames = [f for i, f in enumerate(iter_frames(path)) if i in keep]
        is_video = True
    else:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as im:
                frames = [np.asarray(im.convert("RGB"))]
        except (UnidentifiedImageError, OSError) as e:
            raise EmocastError(f"cannot read reference image {path}: {e}") from e
        is_video = False
    index = len(frames) // 2  # a reference video: its middle frame
    face = face_landmarks(frames[index])
    descriptor = None if face is None else dlib_descriptor(frames[index], face.points)
    return _Reference(descriptor, None if face is None else face.points, index, frames, is_video)


def _emotion_metrics(probs: list[np.ndarray], classifier, emotion: str | None) -> dict:
    from emocast.evaluation.emotion_classifier import normalise_label, to_classifier_label

    if not probs:
        return {"value": None, "reason": "no face found in the sampled frames", "classifier": classifier.name}
    mean = np.mean(probs, axis=0)
    votes = np.bincount(np.argmax(probs, axis=1), minlength=len(classifier.labels))
    label = classifier.labels[int(np.argmax(mean))]
    out = {
        "classifier": classifier.name,
        "label": label,
        "probabilities": {k: round(float(v), 4) for k, v in zip(classifier.labels, mean)},
        "frame_votes": {k: int(v) for k, v in zip(classifier.labels, votes) if v},
        "frames": len(probs),
    }
    if emotion:
        target = normalise_label(emotion)
        mapped = to_classifier_label(target, classifier.labels)
        out["target"] = target
        if mapped is None:
            out["correct"] = None
            out["reason"] = f"the {classifier.name} classifier has no {target!r} class; not counted in accuracy"
        else:
            out["target_label"] = mapped
            out["correct"] = bool(label == mapped)
            out["target_probability"] = round(float(mean[classifier.labels.index(mapped)]), 4)
            out["target_frame_share"] = round(float(votes[classifier.labels.index(mapped)] / len(probs)), 4)
    return out


def _identity_metrics(ref: _Reference | None, faces: list[tuple[np.ndarray, np.ndarray]], reference: Path | None) -> dict:
    from emocast.evaluation.identity import arcface_embedding, arcface_unavailable_reason, dlib_descriptor, identity_distances

    if ref is None:
        return {"value": None, "reason": "no reference portrait given (--reference IMAGE)"}
    if ref.descriptor is None:
        return {"value": None, "reason": f"no face found in the reference {reference}"}
    if not faces:
        return {"value": None, "reason": "no face found in the sampled frames"}
    descriptors = [dlib_descriptor(frame, points) for frame, points in faces]
    out = {"model": "dlib_resnet_v1", **identity_distances(ref.descriptor, descriptors)}
    reason = arcface_unavailable_reason()
    if reason or ref.points is None:
        out["arcface"] = {"value": None, "reason": reason or "no face in the reference"}
    else:
        reference_emb = arcface_embedding(ref.frames[ref.face_index], ref.points)
        cosine = [1.0 - float(reference_emb @ arcface_embedding(frame, points)) for frame, points in faces]
        out["arcface"] = {"cosine_distance_mean": round(float(np.mean(cosine)), 4), "cosine_distance_max": round(float(np.max(cosine)), 4)}
    return out


def _fid(ref: _Reference | None, frames: list[np.ndarray]) -> dict:
    from emocast.evaluation.quality import fid, fid_unavailable_reason

    reason = fid_unavailable_reason()
    if reason:
        return {"value": None, "reason": reason}
    if ref is None or not ref.is_video:
        return {"value": None, "reason": "FID needs a set of real frames: give a real video as --reference"}
    return fid(ref.frames, frames)


def _syncnet(video: Path) -> dict:
    from emocast.evaluation.syncnet import syncnet_scores, syncnet_unavailable_reason

    reason = syncnet_unavailable_reason()
    if reason:
        return {"value": None, "reason": reason}
    return syncnet_scores(video)


def _thumbnail(frame: np.ndarray) -> np.ndarray:
    import cv2

    h, w = frame.shape[:2]
    s = min(h, w)
    square = frame[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    return cv2.resize(square, (THUMBNAIL_SIDE, THUMBNAIL_SIDE), interpolation=cv2.INTER_AREA)


# ----------------------------------------------------------------------------------------------
# batch


def read_manifest(manifest_csv: Path) -> list[dict]:
    """Rows of a manifest CSV (columns video, reference, emotion), paths resolved against its folder."""
    manifest_csv = Path(manifest_csv)
    if not manifest_csv.is_file():
        raise EmocastError(f"manifest {manifest_csv} does not exist")
    with open(manifest_csv, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or "video" not in [c.strip() for c in reader.fieldnames]:
            raise EmocastError(f"manifest {manifest_csv} needs a header row with a 'video' column (and reference, emotion)")
        rows = []
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
            if not row.get("video"):
                raise EmocastError(f"{manifest_csv}:{line}: empty video path")
            rows.append(
                {
                    "video": _resolve(manifest_csv, row["video"]),
                    "reference": _resolve(manifest_csv, row["reference"]) if row.get("reference") else None,
                    "emotion": row.get("emotion") or None,
                }
            )
    if not rows:
        raise EmocastError(f"manifest {manifest_csv} lists no videos")
    return rows


def _resolve(manifest_csv: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (manifest_csv.parent / p)


def evaluate_batch(manifest_csv: str | os.PathLike, report_dir: str | os.PathLike, sanity: bool = True) -> Path:
    """Evaluate every video of a manifest and write report.md with its PNG plots into report_dir.

    Args:
        manifest_csv: CSV with columns video, reference, emotion (paths relative to the CSV's folder).
        report_dir: output folder (created); gets report.md, metrics.json, confusion.png,
            per_emotion.png, lag_curves.png, contact_sheet.png.
        sanity: also run the metric sanity checks on real data (emocast.evaluation.sanity, ~15 s).

    Returns:
        The path of report.md.
    """
    import json

    from emocast.evaluation.report import write_report

    rows = read_manifest(Path(manifest_csv))
    report_dir = Path(report_dir)
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EmocastError(f"cannot create report folder {report_dir}: {e}") from e
    results = []
    for row in rows:
        result = _evaluate(row["video"], row["reference"], row["emotion"])
        results.append(result)
    sanity_rows = None
    if sanity:
        from emocast.evaluation.sanity import run_sanity

        sanity_rows = run_sanity()
    (report_dir / "metrics.json").write_text(
        json.dumps({"videos": [r.metrics for r in results], "sanity": sanity_rows}, indent=1), encoding="utf-8"
    )
    return write_report(results, report_dir, sanity=sanity_rows)


# ----------------------------------------------------------------------------------------------
# text


def format_metrics(metrics: dict) -> str:
    """A readable multi-line summary of `evaluate`'s dict."""
    lines = []
    v = metrics.get("video", {})
    lines.append(f"video:      {v.get('path')}  ({v.get('frames')} frames, {v.get('fps')} fps, faces in {metrics.get('faces_found', 0):.0%})")
    e = metrics.get("emotion", {})
    if e.get("label"):
        top = sorted(e["probabilities"].items(), key=lambda kv: -kv[1])[:3]
        line = f"emotion:    {e['label']}  (" + ", ".join(f"{k} {p:.2f}" for k, p in top) + f"; {e['classifier']})"
        if "target" in e:
            verdict = "n/a" if e.get("correct") is None else ("correct" if e["correct"] else "WRONG")
            line += f"  target {e['target']}: {verdict}"
        lines.append(line)
    else:
        lines.append(f"emotion:    unavailable ({e.get('reason')})")
    s = metrics.get("lip_sync", {})
    if "best_lag_frames" in s:
        lines.append(
            f"lip sync:   best lag {s['best_lag_frames']:+d} frames, r={s['peak_correlation']:.2f} "
            f"(at 0: {s['correlation_at_zero']:.2f}), mouth motion {s['mouth_motion']:.3f}"
        )
        closure = []
        if s.get("silence_closure") is not None:
            closure.append(f"closed in {s['silence_closure']:.0%} of {s['silence_frames']} pause frames")
        if s.get("bilabial_closure") is not None:
            closure.append(f"on {s['bilabial_closure']:.0%} of {s['bilabials']} p/b/m")
        if closure:
            lines.append("            mouth " + ", ".join(closure))
    else:
        lines.append(f"lip sync:   unavailable ({s.get('reason')})")
    sn = metrics.get("syncnet", {})
    lines.append(
        f"syncnet:    LSE-D {sn['lse_d']:.2f}, LSE-C {sn['lse_c']:.2f}, offset {sn['offset_frames']:+d}"
        if sn.get("lse_d") is not None
        else f"syncnet:    unavailable ({sn.get('reason')})"
    )
    i = metrics.get("identity", {})
    lines.append(
        f"identity:   distance {i['distance_mean']:.3f} mean, {i['distance_max']:.3f} max over {i['frames']} frames "
        f"({'same person' if i['same_person'] else 'DIFFERENT person'} by dlib's < 0.6)"
        if "distance_mean" in i
        else f"identity:   unavailable ({i.get('reason')})"
    )
    st = metrics.get("stability", {})
    parts = [f"{k.replace('_', ' ')} {st[k]:.4f}" for k in ("landmark_jitter", "luminance_flicker", "background_flicker") if st.get(k) is not None]
    lines.append("stability:  " + (", ".join(parts) if parts else "unavailable"))
    f = metrics.get("quality", {}).get("fid", {})
    lines.append(f"FID:        {f['value']:.2f}" if f.get("value") is not None else f"FID:        unavailable ({f.get('reason')})")
    sp = metrics.get("speed", {})
    lines.append(f"speed:      RTF {sp['rtf']:.2f}" if sp.get("rtf") is not None else f"speed:      unavailable ({sp.get('reason')})")
    lines.append(f"(evaluated in {metrics.get('evaluation_seconds', 0):.1f} s)")
    return "\n".join(lines)
