"""Quality benchmark of the mesh engine: portraits x eight emotions x speech clips.

Renders every combination at intensity 1.0, judges each video with emocast.evaluation (models the
generator does not use), prints one table (per-emotion accuracy, mean best lip-sync lag, identity
distance, real-time factor) and writes the batch report with its contact sheet.

    python benchmarks/bench_quality.py                 # assets/portraits x 8 emotions x assets/speech
    python benchmarks/bench_quality.py --quick         # 1 portrait x 8 emotions x 1 clip, 3 s of audio
    python benchmarks/bench_quality.py --portraits DIR --size 512 --out /tmp/bench_quality

Targets (mesh engine, intensity 1.0): >= 85% emotion accuracy over the seven classes the FER2013
classifier knows (contempt is reported but not scored), identity distance <= 0.35, best lip-sync
lag within +-2 frames.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# one clear prompt per emotion: the emotion word itself
EMOTIONS = ("angry", "contempt", "disgusted", "fear", "happy", "neutral", "sad", "surprised")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")


def _cut_audio(path: Path, seconds: float, out_dir: Path) -> Path:
    import soundfile as sf

    samples, rate = sf.read(str(path), dtype="float32", always_2d=False)
    out = out_dir / f"{path.stem}_{seconds:g}s.wav"
    sf.write(str(out), samples[: int(seconds * rate)], rate)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portraits", type=Path, help="extra folder of portraits (added to assets/portraits)")
    parser.add_argument("--speech", type=Path, default=REPO / "assets" / "speech", help="folder of speech clips")
    parser.add_argument("--size", type=int, default=256, help="output side in pixels (256 or 512)")
    parser.add_argument("--intensity", type=float, default=1.0)
    parser.add_argument("--max-seconds", type=float, default=None, help="cut speech to this many seconds")
    parser.add_argument("--quick", action="store_true", help="1 portrait x 8 emotions x 1 clip of 3 s")
    parser.add_argument("--out", type=Path, default=Path("/tmp/emocast_bench_quality"))
    args = parser.parse_args()

    import emocast
    from emocast.evaluation.evaluate import _evaluate
    from emocast.evaluation.report import write_report
    from emocast.evaluation.speed import measure

    portraits = sorted(p for p in (REPO / "assets" / "portraits").iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if args.portraits:
        portraits += sorted(p for p in args.portraits.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    clips = sorted(p for p in args.speech.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    args.out.mkdir(parents=True, exist_ok=True)
    max_seconds = args.max_seconds
    if args.quick:
        portraits, clips, max_seconds = portraits[:1], clips[-1:], max_seconds or 3.0
    if max_seconds:
        clips = [_cut_audio(c, max_seconds, args.out) for c in clips]

    import soundfile as sf

    evaluations, speeds, manifest = [], [], []
    total = len(portraits) * len(EMOTIONS) * len(clips)
    for portrait in portraits:
        for clip in clips:
            audio_seconds = sf.info(str(clip)).duration
            for emotion in EMOTIONS:
                out = args.out / f"{portrait.stem}_{clip.stem}_{emotion}.mp4"
                video, speed = measure(
                    lambda: emocast.generate(portrait, clip, emotion, intensity=args.intensity, out=out, size=args.size),
                    audio_seconds,
                )
                ev = _evaluate(Path(video), portrait, emotion, bilabials=False)
                ev.metrics["speed"] = speed
                evaluations.append(ev)
                speeds.append(speed["rtf"])
                manifest.append({"video": out.name, "reference": str(portrait), "emotion": emotion})
                e, s, i = ev.metrics["emotion"], ev.metrics["lip_sync"], ev.metrics["identity"]
                print(
                    f"[{len(evaluations)}/{total}] {out.name}: {e.get('label')} "
                    f"(p target {e.get('target_probability', float('nan')):.2f}), lag {s.get('best_lag_frames')}, "
                    f"r {s.get('peak_correlation')}, id {i.get('distance_mean')}, RTF {speed['rtf']:.2f}",
                    flush=True,
                )

    with open(args.out / "manifest.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["video", "reference", "emotion"])
        writer.writeheader()
        writer.writerows(manifest)
    report = write_report(evaluations, args.out, title="EmoCAST mesh engine: quality benchmark")
    (args.out / "metrics.json").write_text(json.dumps([e.metrics for e in evaluations], indent=1))

    # the table
    print()
    print(f"{'emotion':<10s} {'n':>3s} {'accuracy':>9s} {'p(target)':>9s} {'predicted':>10s} {'best lag':>9s} {'peak r':>7s} {'identity':>9s} {'RTF':>6s}")
    rows = {}
    for ev in evaluations:
        rows.setdefault(ev.metrics["emotion"]["target"], []).append(ev.metrics)
    scored = []
    for emotion in EMOTIONS:
        ms = rows.get(emotion, [])
        if not ms:
            continue
        correct = [m["emotion"]["correct"] for m in ms if m["emotion"].get("correct") is not None]
        scored += correct
        labels = [m["emotion"].get("label") for m in ms]
        acc = f"{100 * np.mean(correct):.0f}%" if correct else "n/a"
        prob = np.mean([m["emotion"].get("target_probability", np.nan) for m in ms])
        lag = np.mean([m["lip_sync"].get("best_lag_frames", np.nan) for m in ms])
        peak = np.mean([m["lip_sync"].get("peak_correlation", np.nan) for m in ms])
        ident = np.mean([m["identity"].get("distance_mean", np.nan) for m in ms])
        rtf = np.mean([m["speed"]["rtf"] for m in ms])
        print(f"{emotion:<10s} {len(ms):>3d} {acc:>9s} {prob:>9.2f} {max(set(labels), key=labels.count):>10s} {lag:>+9.2f} {peak:>7.2f} {ident:>9.3f} {rtf:>6.2f}")
    lags = [m.metrics["lip_sync"].get("best_lag_frames") for m in evaluations if "best_lag_frames" in m.metrics["lip_sync"]]
    idents = [m.metrics["identity"].get("distance_mean") for m in evaluations if "distance_mean" in m.metrics["identity"]]
    print()
    print(f"emotion accuracy over the 7 classifier classes: {100 * np.mean(scored):.1f}% of {len(scored)} videos (target >= 85%)")
    print(f"best lag within +-2 frames: {100 * np.mean(np.abs(lags) <= 2):.0f}% of videos, mean {np.mean(lags):+.2f} (target within +-2)")
    print(f"identity distance: mean {np.mean(idents):.3f}, max {np.max(idents):.3f} (target <= 0.35)")
    print(f"real-time factor: mean {np.mean(speeds):.2f}, max {np.max(speeds):.2f}; "
          f"peak RSS {max(e.metrics['speed']['process_peak_rss_mb'] for e in evaluations):.0f} MB")
    print(f"report: {report}\ncontact sheet: {args.out / 'contact_sheet.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
