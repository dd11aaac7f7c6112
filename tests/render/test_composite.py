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


def _reference_composite(full, crop, frame):
    """The plain formula: warpAffine of the crop to its box, blended through the warped feather everywhere."""
    import cv2

    from emocast.render.composite import _feather

    h, w = full.image.shape[:2]
    x0, y0, side = crop.crop_box
    k = side / crop.image.shape[0]
    affine = np.array([[k, 0.0, x0 + 0.5 * k - 0.5], [0.0, k, y0 + 0.5 * k - 0.5]])
    pasted = cv2.warpAffine(frame, affine, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(_feather(crop.image.shape[0]), affine, (w, h), flags=cv2.INTER_LINEAR)[..., None]
    return full.image + alpha * (pasted.astype(np.float32) - full.image)


def test_fast_paste_matches_the_plain_formula(hdtf):
    from dataclasses import replace

    full, crop = hdtf
    rng = np.random.default_rng(0)
    frame = np.clip(crop.image.astype(int) + rng.integers(-30, 31, crop.image.shape), 0, 255).astype(np.uint8)
    x0, y0, side = crop.crop_box
    for box in ((x0, y0, side), (x0 + 0.37, y0 - 0.21, side + 0.5)):  # integer box (resize) and not (warpAffine)
        moved = replace(crop, crop_box=box)
        out = next(composite_frames(full, moved, iter([frame]))).astype(np.float32)
        h, w = out.shape[:2]
        expected = _reference_composite(full, moved, frame)[:h, :w]
        diff = np.abs(out - expected)
        assert diff.max() <= 6.0 and diff.mean() < 0.35  # interpolation rounding only (a noisy frame: the worst case)
