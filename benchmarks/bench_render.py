"""Speed of the mesh engine's animate + render stages on one core.

Usage: python benchmarks/bench_render.py [--size 512] [--frames 250] [--head-motion 0.7] [--repeats 3]
                                         [--portrait assets/portraits/hdtf_speaker.jpg] [--exact]

Prints ms/frame for each per-frame step (mesh, shading, coarse map, remap, lid pass, mouth, eye pass), the one-off
precomputation, the whole stage through render_frames, the peak RSS, and the load average. The
machine may be shared: each frame is timed `--repeats` times and the fastest pass is kept (wall
clock), which is what the code costs when it has a core to itself. `--exact` times the reference
warp (render_frames(..., exact=True)) for comparison.
"""

from __future__ import annotations

import argparse
import os
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
    parser.add_argument("--head-motion", type=float, default=0.7)
    parser.add_argument("--repeats", type=int, default=3, help="passes per frame; the fastest is kept")
    parser.add_argument("--portrait", default=str(ROOT / "assets/portraits/hdtf_speaker.jpg"))
    parser.add_argument("--exact", action="store_true", help="time the reference warp instead")
    args = parser.parse_args()
    cv2.setNumThreads(1)  # the budget is for one core

    from emocast.audio.track import Prosody, SpeechFeatures, VisemeTrack
    from emocast.emotion.plan import AU_NAMES, ExpressionTrack
    from emocast.face.crop import crop_face
    from emocast.face.detect import detect_face
    from emocast.face.image import load_portrait
    from emocast.motion.animate import plan_motion
    from emocast.options import GenerateOptions
    from emocast.render.frames import FrameRenderer
    from emocast.render.lids import draw_closing_lids, lid_closure
    from emocast.render.mouth import draw_mouth
    from emocast.render.warp import warp_image

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
    motion = plan_motion(crop, expression, speech, GenerateOptions(head_motion=args.head_motion, seed=0))
    t_plan = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = FrameRenderer(crop, motion, exact=args.exact)
    t_pre = time.perf_counter() - t0

    names = ("mesh", "shading", "coarse_map", "remap", "lids", "mouth", "eyes")
    steps = np.full((len(names), n), np.inf)
    whole = np.full(n, np.inf)
    for _ in range(args.repeats):
        for i in range(n):  # the steps one by one, then the whole frame, under the same load
            a = time.perf_counter()
            mesh, rest = motion.mesh_at(i), motion.rest_at(i)
            b = time.perf_counter()
            src = r.shading.apply(r.image, motion.weights[i], float(motion.blink[i]))
            c = time.perf_counter()
            targets = r.warp.vertex_targets(mesh)
            if args.exact:
                disp = r.warp.backward_map(targets, exact=True)
            else:
                disp = r.warp.coarse_displacement(targets)
            d = time.perf_counter()
            frame = warp_image(src, disp) if args.exact else r.warp.resample(src, disp)
            e = time.perf_counter()
            closure = lid_closure(motion.source, mesh)
            draw_closing_lids(frame, src, motion.source, mesh, r.iod, closure)
            e2 = time.perf_counter()
            jaw_px = float(motion.weights[i, r.jaw_col]) * r.jaw_px_per_unit
            draw_mouth(frame, mesh, rest, jaw_px, r.iod, r.lip_rgb, r.skin_level, r.teeth_rgb, r.tongue_rgb,
                       r.lower_teeth_rgb)
            f = time.perf_counter()
            r.eyes.draw(frame, mesh)
            g = time.perf_counter()
            steps[:, i] = np.minimum(steps[:, i], (b - a, c - b, d - c, e - d, e2 - e, f - e2, g - f))
            a = time.perf_counter()
            r.render(i)
            whole[i] = min(whole[i], time.perf_counter() - a)

    print(f"portrait {Path(args.portrait).name}, {args.size}x{args.size}, {n} frames, head motion {args.head_motion}, "
          f"1 thread, {'reference' if args.exact else 'fast'} warp, fastest of {args.repeats} passes per frame")
    print(f"plan_motion (whole clip)      {t_plan * 1000:8.1f} ms  ({t_plan / n * 1000:.2f} ms/frame)")
    print(f"render precompute (once)      {t_pre * 1000:8.1f} ms")
    for name, v in zip(names, steps):
        print(f"  {name:<27} {v.mean() * 1000:8.2f} ms/frame")
    print(f"FrameRenderer.render          {whole.mean() * 1000:8.2f} ms/frame "
          f"(+ plan {t_plan / n * 1000:.2f} = {whole.mean() * 1000 + t_plan / n * 1000:.2f} ms/frame; budget 6)")
    print(f"peak RSS                      {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:8.0f} MiB")
    print(f"load average                  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
