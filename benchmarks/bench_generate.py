"""Speed and memory of the mesh engine, end to end.

Times a 60 s clip (real speech looped) at 512^2, 25 fps, and prints the real-time factor
(processing time / audio duration) per stage and overall, plus the peak RSS of the main process and
of its largest helper process (the phone decoder or the second renderer; they never run at the same
time). With --long it also runs a 10-minute clip, to show memory does not grow with length. Each
run is a fresh subprocess so peak RSS is that run's own.

    python benchmarks/bench_generate.py            # 60 s clip
    python benchmarks/bench_generate.py --long     # + 10-minute clip
    python benchmarks/bench_generate.py --repeat 5 # 60 s clip five times: median / min / max
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEECH = REPO / "assets" / "speech" / "jfk_11s.flac"
PORTRAIT = REPO / "assets" / "portraits" / "hdtf_speaker.jpg"
PROMPT = "she just got her dream job and can't stop smiling"


def make_clip(seconds: float, out: Path) -> Path:
    """Loop real speech to `seconds` and save it as 16-bit WAV at its own rate."""
    import numpy as np
    import soundfile as sf

    samples, rate = sf.read(SPEECH, dtype="float32", always_2d=True)
    samples = samples.mean(axis=1)  # mono, so tiling repeats time, not channels
    reps = int(np.ceil(seconds * rate / len(samples)))
    sf.write(out, np.tile(samples, reps)[: int(seconds * rate)], rate, subtype="PCM_16")
    return out


def run_one(audio: Path, size: int, fps: int) -> dict:
    """Generate once in this process; return timings, RTF and peak RSS."""
    import resource
    import time

    import emocast
    from emocast.audio.load import load_audio

    duration = load_audio(audio, max_seconds=10_000).duration
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        emocast.generate(PORTRAIT, audio, PROMPT, out=Path(tmp) / "bench.mp4", size=size, fps=fps,
                         max_audio_seconds=10_000, timings=timings)
        total = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    helper_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest helper process
    cpu = os.times()
    return {"duration_s": duration, "total_s": total, "rtf": total / duration, "peak_rss_mb": peak_mb,
            "helper_rss_mb": helper_mb, "cpu_s": cpu.user + cpu.system + cpu.children_user + cpu.children_system,
            "stages_rtf": {k: v / duration for k, v in timings.items()}, "frames": round(duration * fps)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--long", action="store_true", help="also run a 10-minute clip")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of each clip (fresh processes); prints each and the median/min/max RTF")
    parser.add_argument("--_child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        print(json.dumps(run_one(args._child, args.size, args.fps)))
        return

    lengths = [args.seconds] + ([600.0] if args.long else [])
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in lengths:
            audio = make_clip(seconds, Path(tmp) / f"speech_{int(seconds)}s.wav")
            rtfs = []
            for _ in range(max(1, args.repeat)):
                proc = subprocess.run(
                    [sys.executable, __file__, "--_child", str(audio), "--size", str(args.size), "--fps", str(args.fps)],
                    capture_output=True, text=True, check=True,
                )
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                rtfs.append(r["rtf"])
                print(f"clip {r['duration_s']:.0f} s, {r['frames']} frames at {args.size}^2 {args.fps} fps")
                for stage, rtf in r["stages_rtf"].items():
                    print(f"  {stage:<8s} RTF {rtf:.4f}  ({rtf * r['duration_s'] * 1000 / r['frames']:.2f} ms/frame)")
                print(f"  overall  RTF {r['rtf']:.3f}  ({r['total_s']:.1f} s; CPU {r['cpu_s']:.1f} s)  "
                      f"peak RSS {r['peak_rss_mb']:.0f} MB + helper process {r['helper_rss_mb']:.0f} MB")
            if len(rtfs) > 1:
                rtfs.sort()
                median = (rtfs[(len(rtfs) - 1) // 2] + rtfs[len(rtfs) // 2]) / 2
                print(f"{seconds:.0f} s clip over {len(rtfs)} runs: RTF median {median:.3f}, min {rtfs[0]:.3f}, "
                      f"max {rtfs[-1]:.3f}; {sum(x <= 0.25 for x in rtfs)} of {len(rtfs)} at or under 0.25")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores "
              "(other work on the machine slows every figure)")


if __name__ == "__main__":
    main()
