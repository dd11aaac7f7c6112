"""Expression benchmark of the mesh engine on stills: faces x seven emotions -> the FER2013 judge.

Each face goes through the product's real stages (load_portrait, detect_face, crop_face; the
emotion word through analyze_prompt at intensity 1.0 and expression_track; plan_motion; the
frame renderer) and the peak frame is judged by models the generator does not use: fer's FER2013
classifier (emotion) and dlib's face descriptor (identity distance to the unchanged crop). A still
with a silent voice is what a user sees at the expression's apex between words.

    python benchmarks/bench_expressions.py                      # dev faces: assets + mirrors + HDTF frames
    python benchmarks/bench_expressions.py --faces DIR [DIR..]  # add folders of portraits
    python benchmarks/bench_expressions.py --only-extra --faces /tmp/faces/test   # a held-out set alone

Prints per-emotion accuracy, the confusion of wrong answers, identity distance, and writes a
contact sheet (rows = faces, columns = source + emotions, label green when right) to --out.
Targets (mesh engine, intensity 1.0): >= 85% accuracy over the seven FER classes, identity <= 0.35.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# the product's emotion words -> the FER2013 label they must read as
EMOTIONS = {"angry": "angry", "disgusted": "disgust", "fear": "fear", "happy": "happy", "sad": "sad",
            "surprised": "surprise", "neutral": "neutral"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
HDTF_VIDEO = REPO.parent / "shared" / "fixtures" / "real_talking_head_hdtf_wda.mp4"
HDTF_FRAMES = (40, 160)  # two frames of the real talking head


def load_faces(extra: list[Path], only_extra: bool) -> list[tuple[str, np.ndarray]]:
    """(name, RGB picture) of every face to test."""
    from emocast.face.image import load_portrait

    faces: list[tuple[str, np.ndarray]] = []
    if not only_extra:
        for path in sorted((REPO / "assets" / "portraits").iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                image = load_portrait(path)
                faces += [(path.stem, image), (path.stem + "_mirror", np.ascontiguousarray(image[:, ::-1]))]
        if HDTF_VIDEO.exists():
            import av

            with av.open(str(HDTF_VIDEO)) as container:
                for i, frame in enumerate(container.decode(video=0)):
                    if i in HDTF_FRAMES:
                        faces.append((f"hdtf_f{i}", frame.to_ndarray(format="rgb24")))
                    if i >= max(HDTF_FRAMES):
                        break
    for folder in extra:
        for path in sorted(folder.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                faces.append((path.stem, load_portrait(path)))
    return faces


def peak_frames(crop, words: list[str]) -> list[np.ndarray]:
    """The rendered apex frame of each emotion word on one face crop (real pipeline stages)."""
    from emocast.audio.track import Prosody, SpeechFeatures, VisemeTrack
    from emocast.emotion.analyze import analyze_prompt
    from emocast.emotion.expression import expression_track
    from emocast.motion.animate import plan_motion
    from emocast.options import GenerateOptions
    from emocast.render.frames import FrameRenderer

    n, fps = 1, 25.0
    zeros = np.zeros(n, np.float32)
    prosody = Prosody(fps, zeros, zeros, zeros.astype(bool))
    speech = SpeechFeatures(num_frames=n, fps=fps, prosody=prosody, visemes=VisemeTrack(fps, zeros, zeros, zeros, zeros))
    options = GenerateOptions(head_motion=0.0, blink=False)
    out, renderer = [], None
    for word in words:
        plan = analyze_prompt(word, intensity=1.0)
        motion = plan_motion(crop, expression_track(plan, prosody, voice_strength=0.0), speech, options)
        if renderer is None:
            renderer = FrameRenderer(crop, motion)
        else:  # the warp and wrinkle maps depend only on the crop's source landmarks: reuse them
            renderer.motion = motion
        out.append(renderer.render(0))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--faces", type=Path, nargs="*", default=[], help="extra folders of portraits")
    parser.add_argument("--only-extra", action="store_true", help="skip the built-in dev faces")
    parser.add_argument("--size", type=int, default=256, help="crop side in pixels")
    parser.add_argument("--out", type=Path, default=Path("/tmp/emocast_bench_expressions.png"))
    args = parser.parse_args()

    import cv2

    from emocast.evaluation.emotion_classifier import classify_image
    from emocast.evaluation.identity import dlib_descriptor
    from emocast.evaluation.landmarks import face_landmarks
    from emocast.face.crop import crop_face
    from emocast.face.detect import detect_face

    start = time.perf_counter()
    words = list(EMOTIONS)
    results: dict[str, list[tuple[str, str, float, float]]] = {w: [] for w in words}  # face, label, p, identity
    rows = []
    for name, picture in load_faces(args.faces, args.only_extra):
        crop = crop_face(detect_face(picture, source=name), args.size)
        ref = face_landmarks(crop.image)
        ref_desc = dlib_descriptor(crop.image, ref.points) if ref is not None else None
        frames = peak_frames(crop, words)
        tiles = [_tile(crop.image, name)]
        for word, frame in zip(words, frames):
            seen = face_landmarks(frame)
            if seen is None:
                label, p, ident = "noface", 0.0, float("nan")
            else:
                probs = classify_image(frame)
                label = max(probs, key=probs.get)
                p = probs[EMOTIONS[word]]
                ident = float(np.linalg.norm(dlib_descriptor(frame, seen.points) - ref_desc)) if ref_desc is not None else float("nan")
            results[word].append((name, label, p, ident))
            ok = label == EMOTIONS[word]
            tiles.append(_tile(frame, f"{word[:5]}>{label[:5]} {p:.2f}", (0, 200, 0) if ok else (230, 0, 0)))
        rows.append(np.concatenate(tiles, axis=1))
        print(f"{name:<24s} " + " ".join(f"{w[:5]}:{results[w][-1][1][:5]:<5s}" for w in words), flush=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(np.concatenate(rows, axis=0), cv2.COLOR_RGB2BGR))

    print()
    print(f"{'emotion':<10s} {'acc':>5s} {'p(tgt)':>7s} {'identity':>9s}  wrong answers")
    correct_all, idents = [], []
    for word in words:
        rs = results[word]
        correct = [r[1] == EMOTIONS[word] for r in rs]
        correct_all += correct
        idents += [r[3] for r in rs if np.isfinite(r[3])]
        wrong = {}
        for r, c in zip(rs, correct):
            if not c:
                wrong[r[1]] = wrong.get(r[1], 0) + 1
        print(f"{word:<10s} {sum(correct):>2d}/{len(rs):<2d} {np.mean([r[2] for r in rs]):>7.2f} "
              f"{np.nanmean([r[3] for r in rs]):>9.3f}  {wrong}")
    print(f"\naccuracy {100 * np.mean(correct_all):.1f}% ({sum(correct_all)}/{len(correct_all)}), "
          f"identity mean {np.mean(idents):.3f} max {np.max(idents):.3f}; "
          f"{time.perf_counter() - start:.1f} s; contact sheet {args.out}")
    return 0


def _tile(image: np.ndarray, text: str, colour=(255, 255, 255)) -> np.ndarray:
    import cv2

    tile = cv2.resize(image, (160, 160), interpolation=cv2.INTER_AREA).copy()
    cv2.rectangle(tile, (0, 0), (160, 14), (0, 0, 0), -1)
    cv2.putText(tile, text, (2, 11), cv2.FONT_HERSHEY_SIMPLEX, 0.36, colour, 1, cv2.LINE_AA)
    return tile


if __name__ == "__main__":
    raise SystemExit(main())
