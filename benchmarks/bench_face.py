"""Speed and consistency of the face stage (load, detect, crop, masks).

Prints, for each case, the median warm time of each step and how far the landmarks land from the
ones found on the plain 512^2 portrait (mean distance in % of the inter-ocular distance, after
mapping back). Cases: both bundled portraits at 512^2, upscaled to 4000x3000, pasted small (12% of
the canvas width) into a 3000x2000 grey canvas, and next to a second smaller face. With --video it
also runs every frame of the real talking-head fixture: detection rate, time per frame, and
frame-to-frame landmark jitter of the nose bridge (a point that barely moves while talking).

    python benchmarks/bench_face.py
    python benchmarks/bench_face.py --video
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PORTRAITS = {"astronaut": REPO / "assets" / "portraits" / "astronaut.jpg", "speaker": REPO / "assets" / "portraits" / "hdtf_speaker.jpg"}
VIDEO = REPO.parent / "shared" / "fixtures" / "real_talking_head_hdtf_wda.mp4"
REPEATS = 5


def timed(fn, repeats: int = REPEATS):
    """(result, median seconds) of `repeats` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times)


def cases(image: np.ndarray) -> dict[str, tuple[np.ndarray, float, tuple[int, int]]]:
    """name -> (picture, scale, offset): picture pixel = portrait pixel * scale + offset."""
    import cv2

    big = cv2.resize(image, (4000, 3000), interpolation=cv2.INTER_CUBIC)  # non-uniform: x*7.8125, y*5.859
    canvas = np.full((2000, 3000, 3), 128, np.uint8)
    side = 360
    canvas[900 : 900 + side, 1700 : 1700 + side] = cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)
    pair = np.full((700, 1200, 3), 200, np.uint8)
    pair[150:406, 50:306] = cv2.resize(image[:, ::-1], (256, 256), interpolation=cv2.INTER_AREA)
    pair[100:612, 600:1112] = image
    return {
        "512x512": (image, (1.0, 1.0), (0, 0)),
        "4000x3000": (big, (4000 / 512, 3000 / 512), (0, 0)),
        "small 12%": (canvas, (side / 512, side / 512), (1700, 900)),
        "two faces": (pair, (1.0, 1.0), (600, 100)),
    }


def bench_portraits() -> None:
    from PIL import Image

    from emocast.face import landmarks as lm
    from emocast.face.crop import crop_face
    from emocast.face.detect import detect_face
    from emocast.face.image import load_portrait
    from emocast.face.masks import region_masks

    start = time.perf_counter()
    detect_face(load_portrait(PORTRAITS["speaker"]))
    print(f"first call (loads MediaPipe graphs): {time.perf_counter() - start:.2f} s")
    print(f"{'portrait':10s} {'case':10s} {'load ms':>8s} {'detect ms':>9s} {'crop512 ms':>10s} {'masks ms':>8s} {'err %IOD':>8s} faces")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in PORTRAITS.items():
            portrait = load_portrait(path)
            reference = detect_face(portrait).landmarks
            iod = lm.face_size(reference)
            for case, (picture, scale, offset) in cases(portrait).items():
                file = Path(tmp) / f"{name}_{case.replace(' ', '_').replace('%', '')}.jpg"
                Image.fromarray(picture).save(file, quality=92)
                _, t_load = timed(lambda: load_portrait(file))
                face, t_detect = timed(lambda: detect_face(picture))
                crop, t_crop = timed(lambda: crop_face(face, 512))
                _, t_masks = timed(lambda: region_masks(crop.landmarks, (512, 512)))
                mapped = (face.landmarks[:, :2] - offset) / scale
                error = np.linalg.norm(mapped - reference[:, :2], axis=1).mean() / iod * 100
                print(
                    f"{name:10s} {case:10s} {t_load * 1e3:8.1f} {t_detect * 1e3:9.1f} {t_crop * 1e3:10.1f} "
                    f"{t_masks * 1e3:8.1f} {error:8.2f} {face.num_faces}"
                )


def bench_video() -> None:
    import av

    from emocast.face import landmarks as lm
    from emocast.face.detect import detect_face

    found, times, bridge, sizes = 0, [], [], []
    with av.open(str(VIDEO)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    for frame in frames:
        start = time.perf_counter()
        try:
            face = detect_face(frame)
        except ValueError:
            bridge.append(None)
            continue
        times.append(time.perf_counter() - start)
        found += 1
        bridge.append(face.landmarks[168, :2])  # top of the nose bridge (FACEMESH_NOSE)
        sizes.append(lm.face_size(face.landmarks))
    steps = [np.linalg.norm(b - a) for a, b in zip(bridge, bridge[1:]) if a is not None and b is not None]
    print(
        f"video {VIDEO.name}: {found}/{len(frames)} frames with a face, "
        f"{statistics.median(times) * 1e3:.1f} ms/frame median, nose-bridge step "
        f"{np.median(steps) / np.median(sizes) * 100:.2f}% IOD median, "
        f"{np.percentile(steps, 95) / np.median(sizes) * 100:.2f}% p95"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", action="store_true", help="also run every frame of the real talking-head fixture")
    args = parser.parse_args()
    bench_portraits()
    if args.video:
        bench_video()


if __name__ == "__main__":
    main()
