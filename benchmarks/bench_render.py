"""Speed of the mesh engine's animate + render stages on one core.

Usage: python benchmarks/bench_render.py [--size 512] [--frames 250] [--portrait assets/portraits/hdtf_speaker.jpg]

Prints ms/frame for each per-frame step (mesh, shading, backward map, remap, mouth), the
one-off precomputation, the whole stage through render_frames, and the peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--portrait", default=str(ROOT / "assets/portraits/hdtf_speaker.jpg"))
    args = parser.parse_args()
    cv2.setNumThreads(1)  # the budget is for one core

    from emocast.audio.track import Prosody, SpeechFeatures, VisemeTrack
    from emocast.emotion.plan import AU_NAMES, ExpressionTrack
    from emocast.face.crop import crop_face
    from emocast.face.detect import detect_face
    from emocast.face.image import load_portrait
    from emocast.motion.animate import plan_motion
    from emocast.render.frames import FrameRenderer, render_frames
    from emocast.render.mouth import draw_mouth
    from emocast.render.warp import warp_image
    from emocast.options import GenerateOptions

    n, fps = args.frames, 25
    crop = crop_face(detect_face(load_portrait(args.portrait)), args.size)
    t = np.arange(n) / fps
    jaw = np.clip(0.5 + 0.5 * np.sin(2 * np.pi * 4 * t), 0, 1).astype(np.float32)
    zeros = np.zeros(n, np.float32)
    speech = SpeechFeatures(n, fps, Prosody(fps, jaw, zeros + 150, jaw > 0.2), VisemeTrack(fps, jaw, zeros, zeros, zeros))
    values = np.zeros((n, len(AU_NAMES)), np.float32)
    for name, v in {"AU6": 0.8, "AU12": 1.0, "AU1": 0.5, "AU4": 0.3}.items():
        values[:, AU_NAMES.index(name)] = v
    expression = ExpressionTrack(fps, AU_NAMES, values, np.ones(n, np.float32), ["happy"] * n)

    t0 = time.perf_counter()
    motion = plan_motion(crop, expression, speech, GenerateOptions(head_motion=0.7, seed=0))
    t_plan = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = FrameRenderer(crop, motion)
    t_pre = time.perf_counter() - t0

    steps = dict(mesh=0.0, shading=0.0, backward_map=0.0, remap=0.0, mouth=0.0)
    for i in range(n):
        a = time.perf_counter()
        mesh = motion.mesh_at(i)
        rest = motion.rest_at(i)
        b = time.perf_counter()
        src = r.shading.apply(r.image, motion.weights[i], float(motion.blink[i]))
        c = time.perf_counter()
        bmap = r.warp.backward_map(r.warp.vertex_targets(mesh))
        d = time.perf_counter()
        frame = warp_image(src, bmap)
        e = time.perf_counter()
        draw_mouth(frame, mesh, rest, float(motion.weights[i, r.jaw_col]) * r.jaw_px_per_unit, r.iod, r.lip_rgb, r.skin_level)
        f = time.perf_counter()
        for k, dt in zip(steps, (b - a, c - b, d - c, e - d, f - e)):
            steps[k] += dt
    t0 = time.perf_counter()
    count = sum(1 for _ in render_frames(crop, motion))
    t_all = time.perf_counter() - t0
    assert count == n

    print(f"portrait {Path(args.portrait).name}, {args.size}x{args.size}, {n} frames, 1 thread")
    print(f"plan_motion (whole clip)      {t_plan * 1000:8.1f} ms  ({t_plan / n * 1000:.2f} ms/frame)")
    print(f"render precompute (once)      {t_pre * 1000:8.1f} ms")
    for k, v in steps.items():
        print(f"  {k:<27} {v / n * 1000:8.2f} ms/frame")
    print(f"render_frames end to end      {t_all / n * 1000:8.2f} ms/frame "
          f"(+ plan {t_plan / n * 1000:.2f} = {(t_all + t_plan) / n * 1000:.2f} ms/frame; budget 6)")
    print(f"peak RSS                      {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")


if __name__ == "__main__":
    main()
