import tracemalloc

import cv2
import numpy as np

from emocast.emotion.plan import AU_NAMES, ExpressionTrack
from emocast.motion import topology as T
from emocast.motion.animate import plan_motion
from emocast.render.frames import render_frames
from emocast.render.mouth import mouth_area
from tests.motion.conftest import expression, speech, still

from emocast.options import GenerateOptions


def _one_frame(crop, aus, jaw=None):
    motion = plan_motion(crop, expression(aus, 1), speech(1, jaw=jaw), still())
    return next(render_frames(crop, motion)), motion.mesh_at(0)


def _grey_in_polygon(frame, points):
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[:, :2]).astype(np.int32)], 1)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)[mask > 0].astype(float)


def _mean_in_polygon(frame, points):
    grey = _grey_in_polygon(frame, points)
    return float(grey.mean()), len(grey)


def test_frames_shape_dtype_and_untorn_border(hdtf):
    _, crop = hdtf
    frame, _ = _one_frame(crop, {"AU12": 1.0, "AU4": 0.5}, jaw=np.ones(1))
    assert frame.shape == crop.image.shape and frame.dtype == np.uint8
    border = np.concatenate([frame[:2].reshape(-1, 3), frame[-2:].reshape(-1, 3),
                             frame[:, :2].reshape(-1, 3), frame[:, -2:].reshape(-1, 3)])
    source = np.concatenate([crop.image[:2].reshape(-1, 3), crop.image[-2:].reshape(-1, 3),
                             crop.image[:, :2].reshape(-1, 3), crop.image[:, -2:].reshape(-1, 3)])
    assert np.abs(border.astype(int) - source.astype(int)).max() <= 2


def test_mouth_interior_dark_when_open_absent_when_closed(hdtf):
    _, crop = hdtf
    open_frame, open_mesh = _one_frame(crop, {"AU26": 0.8, "AU25": 1.0})
    inner = open_mesh[T.inner_mouth_polygon()]
    assert mouth_area(open_mesh) > 50
    lips = open_mesh[list(T.LIP_OUTER_LOWER) + list(T.LIP_INNER_LOWER[::-1])]
    interior = _grey_in_polygon(open_frame, inner)
    lip_level, _ = _mean_in_polygon(open_frame, lips)
    assert len(interior) > 30
    assert np.percentile(interior, 40) < lip_level - 15  # a dark cavity between the teeth rows
    dark_open = float((interior < 45).mean())

    closed_frame, closed_mesh = _one_frame(crop, {})
    assert mouth_area(closed_mesh) < 2.0
    # the same pixels show lips and chin, not a cavity
    dark_closed = float((_grey_in_polygon(closed_frame, inner) < 45).mean())
    assert dark_open > 0.2 and dark_closed < dark_open / 3


def test_teeth_of_a_smiling_photo_vanish_when_neutral(astronaut):
    _, crop = astronaut
    frame, mesh = _one_frame(crop, {})
    # the photo shows bright teeth inside its inner-lip polygon; the neutral frame shows the
    # (darker) lip texture there
    src_poly = crop.landmarks[T.inner_mouth_polygon()]

    def brightest(image):
        return float(np.percentile(_grey_in_polygon(image, src_poly), 90))

    assert brightest(frame) < brightest(crop.image) - 15


def test_generator_streams_without_storing_frames(hdtf):
    _, crop = hdtf
    n = 300
    jaw = 0.5 + 0.5 * np.sin(np.arange(n) / 2.0)
    motion = plan_motion(crop, expression({"AU12": 0.5}, n), speech(n, jaw=jaw), still(blink=True))
    frames = render_frames(crop, motion)
    next(frames)  # precomputation done
    tracemalloc.start()
    count = 1
    for i, frame in enumerate(frames):
        count += 1
        if i == 20:
            early = tracemalloc.get_traced_memory()[0]
    late, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    frame_bytes = crop.image.nbytes
    assert late - early < 3 * frame_bytes  # nothing accumulates per frame
    assert peak < 40 * frame_bytes


def _lively_motion(crop, n=14):
    """Jaw opening and closing, a smile coming and going, a blink, and head motion."""
    t = np.arange(n) / 25.0
    values = np.zeros((n, len(AU_NAMES)), np.float32)
    values[:, AU_NAMES.index("AU12")] = np.linspace(0.0, 1.0, n)
    values[:, AU_NAMES.index("AU6")] = np.linspace(0.0, 0.8, n)
    values[:, AU_NAMES.index("AU4")] = np.linspace(0.6, 0.0, n)
    values[n // 2 - 2: n // 2 + 2, AU_NAMES.index("AU43")] = [0.5, 1.0, 1.0, 0.5]  # a blink
    track = ExpressionTrack(fps=25.0, au_names=AU_NAMES, values=values, intensity=np.ones(n, np.float32),
                            emotions=["happy"] * n)
    jaw = np.clip(0.5 + 0.7 * np.sin(2 * np.pi * 3.0 * t), 0.0, 1.0)
    return plan_motion(crop, track, speech(n, jaw=jaw), GenerateOptions(head_motion=1.0, blink=False, seed=1))


def _assert_same_look(fast, exact):
    diff = np.abs(fast.astype(np.float32) - exact.astype(np.float32)).mean(2)
    assert diff.mean() < 0.5  # grey levels over the whole frame
    assert cv2.blur(diff, (9, 9)).max() < 8.0  # and no visible local change (lips, lids)


def test_fast_render_looks_like_the_reference_warp(hdtf, astronaut):
    for _, crop in (hdtf, astronaut):
        motion = _lively_motion(crop)
        assert motion.weights[:, motion.channels.index("AU26")].max() > 0.5  # the mouth opens
        for fast, exact in zip(render_frames(crop, motion), render_frames(crop, motion, exact=True)):
            _assert_same_look(fast, exact)


def test_still_head_matches_the_reference_and_keeps_the_corners(hdtf):
    _, crop = hdtf
    n = 6
    motion = plan_motion(crop, expression({"AU12": 1.0, "AU26": 0.6, "AU25": 1.0}, n), speech(n), still())
    frames = list(render_frames(crop, motion))
    for fast, exact in zip(frames, render_frames(crop, motion, exact=True)):
        _assert_same_look(fast, exact)
    # the corners of the picture are far from the face: copied, not resampled
    for frame in frames:
        assert np.array_equal(frame[:24, :24], crop.image[:24, :24])


def test_laughing_photo_gets_closed_lips_with_one_seam(astronaut):
    # the astronaut laughs with her teeth showing: her lips are repainted closed and the line where
    # they meet is drawn on the frame, along the closed mouth's seam; no sliver of mouth interior
    # (a grey band with teeth) is drawn where the closed contours do not quite meet
    from emocast.face.crop import crop_face

    crop = crop_face(astronaut[0], 512)  # the product's default size (a sliver is wider in pixels)
    frame, mesh = _one_frame(crop, {})
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(float)
    iod = float(np.linalg.norm(mesh[T.EYE_CORNERS[0][0], :2] - mesh[T.EYE_CORNERS[1][0], :2])) / 1.6
    seam = mesh[list(T.LIP_INNER_UPPER[2:-2]), :2]  # the middle of the seam, away from the corners
    lip_rows = []
    for dy in (-0.05, 0.05):  # inside the upper and the lower lip
        pts = np.round(seam + [0.0, dy * iod]).astype(int)
        lip_rows.append(grey[pts[:, 1], pts[:, 0]])
    on_seam = [min(grey[int(round(y)) + k, int(round(x))] for k in (-1, 0, 1)) for x, y in seam]
    lips = np.mean(lip_rows)
    assert np.median(on_seam) < lips - 12, "no line where the lips meet"
    # the lips themselves are smooth: no dark contour lines left on them from the laughing mouth
    assert np.all(np.abs(lip_rows[0] - np.median(lip_rows[0])) < 35)
    outer = mesh[list(T.LIP_OUTER_UPPER) + list(T.LIP_OUTER_LOWER[-2:0:-1])]
    pixels = _grey_in_polygon(frame, outer)
    assert pixels.min() > 0.25 * np.median(pixels), "a dark sliver of mouth interior between closed lips"


def test_a_sliver_between_closed_lips_is_not_an_open_mouth(hdtf):
    from emocast.render.mouth import mouth_is_open

    _, crop = hdtf
    _, mesh = _one_frame(crop, {})
    lower = list(T.LIP_INNER_LOWER[1:-1])
    sliver = mesh.copy()
    sliver[lower, 1] += 0.08  # contours 0.08 px apart: area above 2 px^2 on a wide mouth, no real gap
    assert mouth_area(sliver) > 2.0 and not mouth_is_open(sliver)
    parted = mesh.copy()
    parted[lower, 1] += 3.0
    assert mouth_is_open(parted)


def test_lower_lip_of_a_closed_mouth_photo_never_samples_the_seam(closed_lips):
    """Lips closed in the photo make the mouth's source triangles slivers. When the jaw drops, every
    output pixel in the middle of the lower lip must still come from the photo's lower lip, not from
    the seam or above it (a warp stalled on the sliver drew dark rings and blobs on the lip)."""
    from emocast.face.crop import crop_face
    from emocast.render.frames import FrameRenderer

    crop = crop_face(closed_lips[0], 512)
    lower = list(T.LIP_INNER_LOWER)
    gap = crop.landmarks[lower[1:-1], 1] - crop.landmarks[list(T.LIP_INNER_UPPER[1:-1]), 1]
    assert gap.max() < 1.0  # the photo's lips are closed
    surprise = {"AU1": 1.0, "AU2": 1.0, "AU5": 0.85, "AU25": 0.6, "AU26": 0.9}
    motion = plan_motion(crop, expression(surprise, 1), speech(1), still())
    renderer = FrameRenderer(crop, motion)
    mesh, source = motion.mesh_at(0), motion.source
    xs = np.round(mesh[lower[2:-2], 0]).astype(int)
    top = T.contour_y(mesh[lower, :2], xs)
    bottom = T.contour_y(mesh[list(T.LIP_OUTER_LOWER), :2], xs)
    for exact in (False, True):
        backward = renderer.warp.backward_map(renderer.warp.vertex_targets(mesh), exact=exact)
        for x, y0, y1 in zip(xs, top, bottom):
            ys = np.arange(int(np.ceil(y0 + 0.25 * (y1 - y0))), int(y1 - 0.25 * (y1 - y0)))
            src_x, src_y = backward[ys, x, 0], backward[ys, x, 1]
            below_seam = src_y - T.contour_y(source[lower, :2], src_x)
            # 1.8-5 px below it; the stalled walk sampled up to 15 px above it
            assert below_seam.min() > 1.0, f"lower-lip pixels at x={x} sample the seam (exact={exact})"


def test_lips_keep_their_layers_when_a_closed_mouth_shouts(closed_lips):
    """A pixel a fifth of the way down the shouting lower lip comes from about a fifth of the way down
    the photo's closed lower lip. Walks stalled on the closed mouth's sliver triangles took lower-lip
    pixels next to the opening from the lip's outer edge and the chin below it (up to 80 % of the
    lip's depth off): rings and specks on the lip in every shout."""
    from emocast.face.crop import crop_face
    from emocast.render.frames import FrameRenderer

    crop = crop_face(closed_lips[0], 512)
    n = 8
    shout = {"AU4": 1.0, "AU5": 0.6, "AU7": 0.8, "AU9": 0.2, "AU10": 1.0, "AU16": 0.6, "AU23": 0.3, "AU25": 1.0,
             "AU26": 0.8}
    jaw = 0.5 + 0.5 * np.sin(np.linspace(0.0, 2.0 * np.pi, n))  # talking while shouting, the head moving
    motion = plan_motion(crop, expression(shout, n), speech(n, jaw=jaw), GenerateOptions(head_motion=0.7, seed=0))
    renderer = FrameRenderer(crop, motion)
    inner, outer, source = list(T.LIP_INNER_LOWER), list(T.LIP_OUTER_LOWER), motion.source
    for i in range(n):
        mesh = motion.mesh_at(i)
        backward = renderer.warp.backward_map(renderer.warp.vertex_targets(mesh))
        left, right = sorted((mesh[inner[3], 0], mesh[inner[-4], 0]))  # away from the corners
        xs = np.arange(int(np.ceil(left)), int(right) + 1)
        for x, y0, y1 in zip(xs, T.contour_y(mesh[inner, :2], xs), T.contour_y(mesh[outer, :2], xs)):
            ys = np.arange(int(np.ceil(y0 + 1.0)), int(y1 - 1.0) + 1)
            src_x, src_y = backward[ys, x, 0], backward[ys, x, 1]
            top, bottom = T.contour_y(source[inner, :2], src_x), T.contour_y(source[outer, :2], src_x)
            depth = (ys - y0) / (y1 - y0)
            source_depth = (src_y - top) / np.maximum(bottom - top, 1e-3)
            # 0.14-0.24 here; the stalled walks 0.34-0.82
            assert np.abs(source_depth - depth).max() < 0.3, f"frame {i}, x={x}: lower lip sampled off its layer"
