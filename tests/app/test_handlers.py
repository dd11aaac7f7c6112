"""The app's event handlers, called directly (no browser): real pipeline on a real portrait + speech."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import soundfile

from emocast.app_support import handlers as h
from emocast.app_support.grid import grid_shape, label_height, render_label
from emocast.errors import EmocastError
from emocast.video import iter_frames, probe

ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "assets" / "portraits" / "hdtf_speaker.jpg"
SPEECH = ROOT / "assets" / "speech" / "hello_en.wav"
SIZE = 128  # pixels; small so each render takes a second or two
CLIP_SECONDS = 2.0


class ProgressRecorder:
    """Stands in for gr.Progress: remembers every (fraction, description)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str | None]] = []

    def __call__(self, fraction: float, desc: str | None = None, **kwargs) -> None:
        self.calls.append((float(fraction), desc))


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> Path:
    """The first 2 s of real English speech."""
    samples, rate = soundfile.read(SPEECH, dtype="float32")
    path = tmp_path_factory.mktemp("speech") / "hello_2s.wav"
    soundfile.write(path, samples[: int(CLIP_SECONDS * rate)], rate)
    return path


@pytest.fixture(scope="module")
def faceless(tmp_path_factory) -> Path:
    """A landscape-like picture with no face in it."""
    from PIL import Image, ImageDraw

    y, x = np.mgrid[0:320, 0:320] / 320.0
    pixels = np.stack([0.3 + 0.5 * y, 0.6 + 0.3 * x, 0.9 - 0.4 * y], axis=-1) * 255
    image = Image.fromarray(pixels.astype(np.uint8))
    ImageDraw.Draw(image).rectangle((0, 220, 320, 320), fill=(60, 120, 50))
    path = tmp_path_factory.mktemp("faceless") / "landscape.png"
    image.save(path)
    return path


def _generate(image, audio, prompt="she just got her dream job", progress=None):
    return h.generate_handler(image, audio, prompt, 0.8, "mesh", SIZE, 25, 0.5, True, 0.5, 0, False,
                              progress=progress or ProgressRecorder())  # fmt: skip


def test_generate_handler_returns_video_plan_and_plot(speech):
    progress = ProgressRecorder()
    video, plan_markdown, figure = _generate(str(PORTRAIT), str(speech), progress=progress)

    info = probe(video)
    assert (info.width, info.height) == (SIZE, SIZE)
    assert info.audio_codec == "aac"
    assert abs(info.duration - CLIP_SECONDS) < 0.2
    assert "**Emotion:** happy" in plan_markdown and "AU12" in plan_markdown

    axes = figure.axes[0]
    curve = axes.lines[0].get_ydata()
    assert len(curve) == pytest.approx(CLIP_SECONDS * 25, abs=2)
    assert 0.0 < float(np.max(curve)) <= 1.0

    fractions = [f for f, _ in progress.calls]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    descriptions = {d for _, d in progress.calls}
    assert {"Finding the face", "Rendering and encoding the video"} <= descriptions


@pytest.mark.parametrize(
    ("image", "audio", "prompt", "expected"),
    [
        (None, SPEECH, "happy", "portrait"),
        (PORTRAIT, None, "happy", "speech"),
        (PORTRAIT, SPEECH, "   ", "prompt"),
    ],
)
def test_missing_inputs_say_what_to_do(image, audio, prompt, expected):
    with pytest.raises(gr.Error) as error:
        _generate(image and str(image), audio and str(audio), prompt)
    assert expected in error.value.message.lower()


def test_faceless_image_is_a_readable_error(faceless, speech):
    with pytest.raises(gr.Error) as error:
        _generate(str(faceless), str(speech))
    assert "face" in error.value.message.lower()
    assert error.value.message != h.GENERIC_ERROR


def test_unreadable_audio_is_a_readable_error(tmp_path):
    broken = tmp_path / "speech.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio" * 10)
    with pytest.raises(gr.Error) as error:
        _generate(str(PORTRAIT), str(broken))
    assert error.value.message != h.GENERIC_ERROR
    assert "audio" in error.value.message.lower()


def test_unexpected_failure_is_generic_and_logged(monkeypatch, caplog, speech):
    def broken_generate(*args, **kwargs):
        raise RuntimeError("internal detail the user should not see")

    monkeypatch.setattr("emocast.pipeline.generate", broken_generate)
    with pytest.raises(gr.Error) as error:
        _generate(str(PORTRAIT), str(speech))
    assert error.value.message == h.GENERIC_ERROR
    assert "internal detail" in caplog.text  # the traceback is in the server log


def test_preset_fills_prompt_and_intensity():
    from emocast.emotion.presets import load_presets

    presets = load_presets()
    assert h.preset_names() == [p.name for p in presets]
    prompt, intensity = h.fill_preset(presets[-1].name)
    assert (prompt, intensity) == (presets[-1].prompt, pytest.approx(presets[-1].intensity))
    untouched = h.fill_preset(None)
    assert all(update == gr.update() for update in untouched)
    with pytest.raises(gr.Error):
        h.fill_preset("no-such-preset")


def test_engine_list_shows_only_usable_engines_with_reasons(monkeypatch):
    monkeypatch.setitem(sys.modules, "emocast.diffusion.engine", None)  # import fails
    choices, default, note = h.engine_choices()
    assert [value for _, value in choices] == ["mesh"] and default == "mesh"
    assert "cannot run here" in note and "not installed" in note

    fake = types.ModuleType("emocast.diffusion.engine")
    fake.unavailable_reason = lambda weights: "no CUDA GPU found"
    monkeypatch.setitem(sys.modules, "emocast.diffusion.engine", fake)
    choices, default, note = h.engine_choices()
    assert [value for _, value in choices] == ["mesh"] and "no CUDA GPU found" in note

    fake.unavailable_reason = lambda weights: None
    choices, default, note = h.engine_choices()
    assert [value for _, value in choices] == ["mesh", "diffusion"] and default == "diffusion" and note == ""


def test_stage_progress_rises_over_known_and_unknown_stages():
    seen = []
    progress = h.StageProgress(lambda f, d: seen.append((f, d)), start=0.5, end=1.0, prefix="Clip 2 of 2: ")
    for stage, fraction in [("audio", 0), ("face", 0), ("render", 0.5), ("prompt", 0), ("denoise", 0.9), ("done", 1)]:
        progress(stage, fraction)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.5 and fractions[-1] == 1.0
    assert seen[2] == (pytest.approx(0.5 + 0.5 * 0.7), "Clip 2 of 2: Rendering and encoding the video")
    assert seen[4][1] == "Clip 2 of 2: Denoise"


def test_compare_renders_each_prompt_and_a_synced_grid(speech):
    outputs = h.compare_handler(str(PORTRAIT), str(speech), "she just got her dream job", 0.9, "", 0.5,
                                "brows knit, glaring", 0.7, None, 0.8, "mesh", SIZE, 0,
                                progress=ProgressRecorder())  # fmt: skip
    cells, grid, download = outputs[:4], outputs[4], outputs[5]
    shown = [c for c in cells if c["visible"]]
    assert len(shown) == 2 and all(c["value"] is None for c in cells if not c["visible"])
    assert shown[1]["label"].startswith("brows knit, glaring") and shown[1]["label"].endswith("70%")
    assert download == grid

    clip, info = probe(shown[0]["value"]), probe(grid)
    strip = label_height(SIZE)
    assert (info.width, info.height) == (2 * SIZE, SIZE + strip)
    assert info.num_frames == clip.num_frames and abs(info.duration - clip.duration) < 0.05
    assert info.audio_codec == "aac"

    last = list(iter_frames(grid))[-1]
    left = last[:SIZE, :SIZE].astype(int)
    clip_last = list(iter_frames(shown[0]["value"]))[-1].astype(int)
    assert np.abs(left - clip_last).mean() < 6  # cell 1 is clip 1 (after re-encoding)
    labels = last[SIZE:, :]
    assert labels[:, :SIZE].std() > 10 and labels[:, SIZE:].std() > 10  # text is drawn under each cell


def test_compare_needs_two_prompts(speech):
    with pytest.raises(gr.Error) as error:
        h.compare_handler(str(PORTRAIT), str(speech), "happy", 0.8, "", 0.8, None, 0.8, "  ", 0.8, "mesh", SIZE, 0,
                          progress=ProgressRecorder())  # fmt: skip
    assert "two prompts" in error.value.message


def test_grid_layout_and_labels():
    assert [grid_shape(n) for n in (1, 2, 3, 4)] == [(1, 1), (2, 1), (3, 1), (2, 2)]
    with pytest.raises(EmocastError):
        grid_shape(5)
    strip = render_label("a very long prompt that cannot possibly fit in a tiny cell · 80%", 96, 20)
    assert strip.shape == (20, 96, 3)
    assert strip[:, -12:].std() > 10  # the tail ("80%") is still drawn at the right end


def test_app_import_does_no_work():
    code = "import sys, app; print(sorted({'gradio', 'torch', 'mediapipe'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr[-2000:]


def test_build_demo_has_both_tabs_and_queue(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    import app

    demo = app.build_demo()
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert {"portrait", "speech", "preset", "prompt", "intensity", "engine", "size", "generate-btn", "result",
            "plan", "plot", "c-prompt4", "compare-btn", "c-grid", "c-grid-file"} <= ids  # fmt: skip
    renders = [fn for fn in demo.fns.values() if fn.api_name in ("generate", "compare")]
    assert len(renders) == 2 and all(fn.concurrency_id == "render" for fn in renders)
    buttons = {i for i, block in demo.blocks.items() if block.elem_id in ("generate-btn", "compare-btn")}
    clicks = [fn for fn in demo.fns.values() if any(t == (b, "click") for t in fn.targets for b in buttons)]
    assert len(clicks) == 2 and all(fn.trigger_mode == "once" for fn in clicks)  # double clicks are dropped
    assert demo._queue.default_concurrency_limit == 1 and demo._queue.max_size == app.QUEUE_MAX_SIZE


def test_spaces_gpu_wraps_only_the_diffusion_engine(monkeypatch):
    import emocast

    wrapped = []
    fake_spaces = types.ModuleType("spaces")

    def gpu(duration):
        def decorate(fn):
            wrapped.append((fn, duration))
            return fn

        return decorate

    fake_spaces.GPU = gpu
    fake_engine = types.ModuleType("emocast.diffusion.engine")
    fake_engine.unavailable_reason = lambda weights: None
    monkeypatch.setitem(sys.modules, "spaces", fake_spaces)
    monkeypatch.setitem(sys.modules, "emocast.diffusion.engine", fake_engine)
    h.zero_gpu_generate.cache_clear()
    try:
        assert h._generate_call(h.make_options(0.5, engine="mesh")) is emocast.generate
        diffusion_call = h._generate_call(h.make_options(0.5, engine="diffusion"))
        assert [fn for fn, _ in wrapped] == [diffusion_call] and diffusion_call is not emocast.generate
        monkeypatch.delitem(sys.modules, "spaces")
        monkeypatch.setitem(sys.modules, "spaces", None)  # not installed: plain generate
        h.zero_gpu_generate.cache_clear()
        assert h._generate_call(h.make_options(0.5, engine="diffusion")) is emocast.generate
    finally:
        h.zero_gpu_generate.cache_clear()


def test_plan_description_is_readable_with_phases():
    from emocast.emotion.plan import EMOTIONS, EmotionPlan, Keyframe

    keys = [Keyframe(0.0, "neutral", 0.0, {}), Keyframe(0.45, "neutral", 0.0, {}),
            Keyframe(0.55, "angry", 0.7, {"AU4": 0.7}), Keyframe(1.0, "angry", 0.7, {"AU4": 0.7})]  # fmt: skip
    probabilities = {e: 0.0 for e in EMOTIONS} | {"angry": 0.8, "neutral": 0.2}
    plan = EmotionPlan("calm, then furious", "angry", probabilities, 0.7, {"AU4": 0.7},
                       "brows lowered and drawn together (AU4)", keys, warnings=["a warning"])  # fmt: skip
    text = h.describe_plan(plan)
    assert "**Emotion:** angry (80% sure) · **intensity** 70%" in text
    assert "brows lowered and drawn together (AU4)" in text
    assert "- 0% to 55% of the clip: neutral" in text and "- 55% to 100% of the clip: angry (intensity 70%)" in text
    assert "a warning" in text


def test_old_request_folders_are_cleaned_up():
    import os
    import time

    old, fresh = h.new_request_dir(), h.new_request_dir()
    (old / "emocast.mp4").write_bytes(b"x")
    stale = time.time() - h.OUTPUT_MAX_AGE_S - 60
    os.utime(old, (stale, stale))
    newest = h.new_request_dir()
    assert not old.exists() and fresh.exists() and newest.parent == h.output_root()


def test_stage_warnings_show_in_the_page(tmp_path, speech):
    """A face at the photo's edge: the crop's warning appears under the plan, once."""
    from PIL import Image

    edge = tmp_path / "edge.png"
    picture = Image.open(PORTRAIT)
    picture.crop((0, 0, picture.width, int(picture.height * 0.62))).save(edge)  # cut just below the chin
    _, plan_markdown, _ = _generate(str(edge), str(speech))
    assert plan_markdown.count("⚠️ the photo is tight around the face") == 1
