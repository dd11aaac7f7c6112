"""Speed of the "listen" stage: real-time factor per step on a 60 s clip of real speech, and peak RSS.

    python benchmarks/bench_audio.py [--seconds 60] [--fps 25] [--audio assets/speech/jfk_11s.flac]

The clip is the speech file looped to the requested length and written as FLAC, so decoding is
measured too. RTF = processing seconds / audio seconds (target: total <= 0.05 on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=ROOT / "assets/speech/jfk_11s.flac")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--fps", type=float, default=25.0)
    args = parser.parse_args()

    from emocast.audio.features import frame_features
    from emocast.audio.load import load_audio
    from emocast.audio.phonemes import _decoder, recognize_phones
    from emocast.audio.prosody import compute_prosody, loudness_curve
    from emocast.audio.speech import analyze_speech, implausibility
    from emocast.audio.vad import voice_activity
    from emocast.audio.visemes import phones_to_visemes

    speech = load_audio(args.audio).samples
    repeats = int(np.ceil(args.seconds * 16000 / len(speech)))
    looped = np.tile(speech, repeats)[: int(args.seconds * 16000)]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.flac"
        sf.write(str(clip), looped, 16000)

        t0 = time.perf_counter()
        import scipy.ndimage  # noqa: F401  one-time import, not per clip

        _decoder()  # model load, once per process
        print(f"one-time imports + PocketSphinx model load: {time.perf_counter() - t0:.2f} s")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        track = load_audio(clip)
        timings["decode"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        num_frames = max(1, round(track.duration * args.fps))
        features = frame_features(track.samples)
        active = voice_activity(features)
        loudness = loudness_curve(features, active)
        compute_prosody(track.samples, features, active, args.fps, num_frames)
        timings["vad+prosody"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        phones = recognize_phones(track.samples, active, features.energy_db)
        timings["phones"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        phones_to_visemes(phones, loudness, args.fps, num_frames, len(features))
        timings["visemes"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        result = analyze_speech(track, args.fps, method="energy")
        energy_total = time.perf_counter() - t0

    duration = track.duration
    print(f"clip: {duration:.1f} s of {args.audio.name} looped, {args.fps:g} fps, {result.num_frames} frames")
    print(f"voice activity: {active.mean():.0%} of the clip; {sum(1 for *_, p in phones if p != 'SIL')} phones; "
          f"plausibility: {implausibility(phones, active) or 'ok'}")
    for step, seconds in timings.items():
        print(f"{step:12s} {seconds:7.3f} s   RTF {seconds / duration:.4f}")
    total = sum(timings.values())
    print(f"{'total':12s} {total:7.3f} s   RTF {total / duration:.4f}  (phones method)")
    print(f"{'energy only':12s} {energy_total - 0:7.3f} s   RTF {energy_total / duration:.4f}  (analyze_speech, method=energy)")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    helper_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB (phone helper process {helper_mb:.0f} MB)")
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    print(f"machine load average {load} on {os.cpu_count()} cores (timings scale with contention)")


if __name__ == "__main__":
    main()
