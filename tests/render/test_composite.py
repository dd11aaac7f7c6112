import numpy as np

from emocast.motion.animate import plan_motion
from emocast.render.composite import MAX_OUTPUT_SIDE, composite_frames, composite_size
from emocast.render.frames import render_frames
from tests.motion.conftest import expression, speech, still


def test_composite_size_and_seamless_paste(hdtf):
    full, crop = hdtf
    motion = plan_motion(crop, expression({"AU12": 1.0}, 3), speech(3), still())
    frames = list(composite_frames(full, crop, render_frames(crop, motion)))
    w, h = composite_size(full)
    assert len(frames) == 3 and frames[0].shape == (h, w, 3) and w % 2 == 0 and h % 2 == 0
    assert (w, h) == (full.image.shape[1] // 2 * 2, full.image.shape[0] // 2 * 2)
    # the crop region changed (the face smiles) ...
    diff = np.abs(frames[0].astype(int) - full.image[:h, :w].astype(int)).sum(2)
    x0, y0, side = crop.crop_box
    assert diff.max() > 20
    # ... but along the crop's edge, inside and outside, the picture is continuous (no seam)
    ring = np.zeros_like(diff, bool)
    xa, ya, xb, yb = (int(round(v)) for v in (x0, y0, x0 + side, y0 + side))
    for d in (-2, 2):
        for x in (xa + d, xb + d):
            if 0 <= x < w:
                ring[max(ya, 0): min(yb, h), x] = True
        for y in (ya + d, yb + d):
            if 0 <= y < h:
                ring[y, max(xa, 0): min(xb, w)] = True
    if ring.any():
        assert diff[ring].mean() < 6


def test_large_pictures_are_capped():
    from emocast.face.geometry import FaceGeometry

    big = FaceGeometry(image=np.zeros((3001, 4001, 3), np.uint8), landmarks=np.zeros((478, 3), np.float32),
                       box=(0, 0, 1, 1))
    w, h = composite_size(big)
    assert max(w, h) <= MAX_OUTPUT_SIDE and w % 2 == 0 and h % 2 == 0
    assert abs(w / h - 4001 / 3001) < 0.01
