import numpy as np

from emocast.motion.animate import plan_motion
from emocast.motion.eyes import blink_curve
from emocast.options import GenerateOptions
from tests.motion.conftest import expression, speech, still

FPS = 25


def test_blinks_at_natural_intervals_and_deterministic():
    n = 60 * FPS
    curve, starts = blink_curve(n, FPS, np.random.default_rng(3))
    gaps = np.diff(starts)
    assert 10 <= len(starts) <= 30
    assert gaps.min() >= 2.0 - 1e-6 and gaps.max() <= 6.0 + 1e-6
    closed = curve > 0.5
    runs = np.diff(np.flatnonzero(np.diff(np.r_[0, closed.astype(int), 0])))[::2]
    assert runs.max() <= 0.25 * FPS  # each blink is brief
    again, starts2 = blink_curve(n, FPS, np.random.default_rng(3))
    assert np.array_equal(curve, again) and starts == starts2
    _, other = blink_curve(n, FPS, np.random.default_rng(4))
    assert other != starts


def test_plan_motion_is_deterministic_and_full_length(hdtf):
    _, crop = hdtf
    n = 100
    rng = np.random.default_rng(0)
    loud = np.clip(np.abs(np.sin(np.arange(n) / 3.0)) + 0.1 * rng.random(n), 0, 1)
    opts = GenerateOptions(head_motion=1.0, seed=7)
    a = plan_motion(crop, expression({"AU12": 0.8}, 40), speech(n, jaw=0.5 * loud, loudness=loud), opts)
    b = plan_motion(crop, expression({"AU12": 0.8}, 40), speech(n, jaw=0.5 * loud, loudness=loud), opts)
    assert a.num_frames == n and a.mesh_at(n - 1).shape == (478, 3)
    assert np.array_equal(a.mesh_at(50), b.mesh_at(50)) and np.array_equal(a.pose, b.pose)
    assert np.abs(a.pose).max() > np.radians(0.5)  # the head moves ...
    assert np.abs(np.diff(a.pose, axis=0)).max() < np.radians(1.0)  # ... smoothly, no jitter


def test_head_motion_zero_keeps_the_head_still(hdtf):
    _, crop = hdtf
    n = 50
    loud = np.linspace(0, 1, n)
    m = plan_motion(crop, expression({}, n), speech(n, loudness=loud), GenerateOptions(head_motion=0.0, blink=False))
    assert not m.pose.any() and not m.translation.any()
    first = m.rest_at(0)
    assert all(np.allclose(m.rest_at(i), first) for i in (10, 30, 49))


def test_blink_option_off(hdtf):
    _, crop = hdtf
    m = plan_motion(crop, expression({}, 200), speech(200), GenerateOptions(blink=False))
    assert not m.blink.any()
    m = plan_motion(crop, expression({}, 200), speech(200), GenerateOptions(blink=True, seed=1))
    assert m.blink.max() > 0.9


def test_an_open_mouthed_expression_still_articulates_while_talking(hdtf):
    """A shouting (or surprised) jaw is held whole in silence; while the voice is on only part of it
    is held and the rest opens with each syllable, so the lips still meet for /p b m/."""
    from emocast.audio.track import Prosody, SpeechFeatures, VisemeTrack
    from emocast.render.mouth import mouth_area

    _, crop = hdtf
    n = 100
    jaw = np.zeros(n, np.float32)
    closed = np.zeros(n, np.float32)
    for start in range(40, n - 5, 10):  # syllables: 6 frames open, then a bilabial closure
        jaw[start: start + 6] = 0.8
        closed[start + 7: start + 10] = 1.0
    loud = np.where(np.arange(n) >= 40, 0.6, 0.0).astype(np.float32)
    talk = SpeechFeatures(num_frames=n, fps=FPS, prosody=Prosody(FPS, loud, loud * 0 + 140.0, loud > 0.1),
                          visemes=VisemeTrack(FPS, jaw, jaw * 0, jaw * 0, closed))
    motion = plan_motion(crop, expression({"AU25": 1.0, "AU26": 0.8}, n), talk, still())
    area = np.array([mouth_area(motion.mesh_at(i)) for i in range(n)])
    silent = area[10:30].mean()
    assert silent > 150  # held whole before the voice starts
    vowels = [area[s + 2: s + 4].max() for s in range(50, n - 5, 10)]
    bilabials = [area[s + 8] for s in range(50, n - 5, 10)]
    assert min(vowels) > 0.8 * silent  # the expression's opening is reached on the syllables
    assert max(bilabials) < 0.2 * silent  # and the lips (nearly) meet between them: 14 % (was 100 %)
    assert area[34] > 0.95 * silent  # 0.24 s before the first word the mouth is still wide open (was 86 %)


def test_talking_starts_just_before_the_voice_and_bridges_pauses():
    """The held-jaw switch: on from ~0.1 s before the voice, through short pauses between words,
    off again ~0.4 s after the voice stops."""
    from emocast.motion.animate import talking_curve

    voiced = np.zeros(150, bool)
    voiced[50:70] = True  # a word
    voiced[77:90] = True  # a 0.28 s pause, then another
    talking = talking_curve(voiced, FPS)
    assert talking[:42].max() < 0.05  # silent until 0.32 s before the voice
    assert talking[48] > 0.9  # ready 0.08 s before it
    assert talking[70:77].min() > 0.95  # the pause counts as talking
    assert talking[90:98].min() > 0.9  # and so do 0.3 s after the last word
    assert talking[105:].max() < 0.05  # silence again from 0.6 s after it


def test_a_chin_near_the_picture_edge_compresses_the_strip_below_it(hdtf):
    """The HDTF crop ends 0.3 IOD below the chin; a full jaw drop would carry the chin past the
    picture's edge (where the warp's border never moves) and fold the neck over it."""
    from emocast.motion import topology as T
    from emocast.render.warp import WarpField

    _, crop = hdtf
    h, w = crop.image.shape[:2]
    motion = plan_motion(crop, expression({"AU26": 1.0, "AU25": 1.0}, 1), speech(1), still())
    mesh, source = motion.mesh_at(0), motion.source
    chin = T.FACE_OVAL[np.argmax(source[list(T.FACE_OVAL), 1])]
    room = (h - 1) - source[chin, 1]
    drop = mesh[chin, 1] - source[chin, 1]
    assert 0.4 * room < drop <= 0.8 * room  # the chin still drops, but stops short of the edge
    field = WarpField.build((h, w), source, motion.frame.iod)
    tri_src = field.source_points[field.triangles].astype(np.float64)
    tri_dst = field.vertex_targets(mesh)[field.triangles].astype(np.float64)

    def signed_area(t):
        return (t[:, 1, 0] - t[:, 0, 0]) * (t[:, 2, 1] - t[:, 0, 1]) - (t[:, 2, 0] - t[:, 0, 0]) * (t[:, 1, 1] - t[:, 0, 1])

    below_mouth = tri_src[:, :, 1].min(1) > source[T.STOMION_LOWER, 1] + 0.3 * motion.frame.iod
    kept = np.sign(signed_area(tri_src)) == np.sign(signed_area(tri_dst))
    assert kept[below_mouth].all()  # nothing between the lower lip and the picture's edge folds


def test_motion_eases_off_towards_the_edges():
    from emocast.motion.sequence import BORDER_LIMIT, keep_inside

    source = np.array([[50.0, 80.0], [50.0, 80.0], [50.0, 50.0], [50.0, 80.0]])
    points = source + np.array([[0.0, 35.0], [0.0, -35.0], [3.0, 4.0], [0.0, 9.0]])
    keep_inside(points, source, (100, 100))  # 19 px of room below the first point
    assert 0.5 * 19 < points[0, 1] - 80.0 < BORDER_LIMIT * 19  # eased, short of the edge
    assert points[1, 1] == 45.0 and np.allclose(points[2], [53.0, 54.0])  # away from edges, or small: unchanged
    assert points[3, 1] == 89.0  # within half the room: unchanged
