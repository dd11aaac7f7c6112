"""Event handlers of the Gradio app, as plain functions so they can be tested without a browser.

Two layers:
- `run_generate` / `run_compare` do the work with emocast's public API and raise EmocastError for
  user errors; they take a plain `progress(fraction, description)` callable.
- `generate_handler` / `compare_handler` are what the UI calls: they check for missing uploads,
  feed `gr.Progress`, and turn errors into `gr.Error` messages shown in the page (never a traceback;
  unexpected failures are logged server-side with theirs).
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from emocast.errors import EmocastError
from emocast.options import GenerateOptions

logger = logging.getLogger(__name__)

ReportFn = Callable[[float, str], None]  # (overall fraction 0..1, what is happening)

# Readable names and the share of the whole job each pipeline stage takes (mesh engine on a CPU).
STAGES: dict[str, tuple[str, float, float]] = {
    "audio": ("Listening to the speech", 0.00, 0.15),
    "prompt": ("Reading the emotion prompt", 0.15, 0.20),
    "face": ("Finding the face", 0.20, 0.30),
    "motion": ("Planning expression and head motion", 0.30, 0.40),
    "render": ("Rendering and encoding the video", 0.40, 1.00),
    "done": ("Done", 1.00, 1.00),
}
ENGINE_LABELS = {"mesh": "Mesh (fast, any CPU)", "diffusion": "Diffusion (EmoCAST, needs a GPU)"}
MAX_COMPARE = 4
OUTPUT_MAX_AGE_S = 15 * 60  # per-request output folders older than this are deleted
GPU_DURATION_S = 180  # ZeroGPU time slot asked for one diffusion generation

GENERIC_ERROR = (
    "Something went wrong on our side while making the video (details are in the server log). "
    "Please try again, or try a different photo or recording."
)


# ----------------------------------------------------------------------------------------------
# progress


class StageProgress:
    """Turns generate()'s `progress(stage, fraction)` calls into one rising overall fraction.

    Args:
        report: called as report(overall fraction 0..1, description).
        start, end: the slice of the overall bar this job fills (the Compare tab runs several).
        prefix: put before each description, e.g. "Clip 2 of 3: ".
    """

    def __init__(self, report: ReportFn, start: float = 0.0, end: float = 1.0, prefix: str = "") -> None:
        self.report, self.start, self.end, self.prefix = report, start, end, prefix
        self.fraction = 0.0  # of this job, never goes down

    def __call__(self, stage: str, fraction: float) -> None:
        label, lo, hi = STAGES.get(stage, (stage.replace("_", " ").capitalize(), None, None))
        fraction = min(max(float(fraction), 0.0), 1.0)
        # stages we do not know (the diffusion engine's) report their own fraction of the whole job
        job = fraction if lo is None else lo + (hi - lo) * fraction
        self.fraction = max(self.fraction, job)
        self.report(self.start + (self.end - self.start) * self.fraction, self.prefix + label)


def gradio_report(progress: Any) -> ReportFn:
    """A ReportFn that moves a gr.Progress bar."""
    return lambda fraction, description: progress(fraction, desc=description)


# ----------------------------------------------------------------------------------------------
# choices: presets and engines


@functools.cache
def _presets() -> dict[str, Any]:
    from emocast.emotion.presets import load_presets

    return {preset.name: preset for preset in load_presets()}


def preset_names() -> list[str]:
    """Names for the preset dropdown, in the presets file's order."""
    return list(_presets())


def fill_preset(name: str | None) -> tuple[Any, Any]:
    """Dropdown change -> (prompt text, intensity) for the prompt box and slider.

    An empty selection leaves both as they are.
    """
    if not name:
        return gr.update(), gr.update()
    preset = _presets().get(name)
    if preset is None:
        raise gr.Error(f"unknown preset {name!r}; pick one from the list")
    return preset.prompt, float(preset.intensity)


def weights_from_env() -> Path | None:
    """The diffusion weights folder, from EMOCAST_WEIGHTS (unset: the engine's own default)."""
    value = os.environ.get("EMOCAST_WEIGHTS", "").strip()
    return Path(value).expanduser() if value else None


def engine_status(weights: Path | None = None) -> dict[str, str | None]:
    """Engine -> None if it can run here, else the reason it cannot (one line)."""
    status: dict[str, str | None] = {"mesh": None}
    try:
        from emocast.diffusion.engine import unavailable_reason
    except ImportError as e:
        status["diffusion"] = f"the diffusion engine is not installed here ({e})"
        return status
    try:
        status["diffusion"] = unavailable_reason(weights)
    except Exception as e:  # noqa: BLE001 - a broken optional engine must not take the app down
        logger.exception("diffusion engine availability check failed")
        status["diffusion"] = f"the diffusion engine failed to start ({type(e).__name__}: {e})"
    return status


def engine_choices(weights: Path | None = None) -> tuple[list[tuple[str, str]], str, str]:
    """(radio choices as (label, value), default value, Markdown note on engines that cannot run)."""
    status = engine_status(weights)
    usable = [engine for engine, reason in status.items() if reason is None]
    choices = [(ENGINE_LABELS.get(engine, engine), engine) for engine in usable]
    default = "diffusion" if "diffusion" in usable else "mesh"
    notes = [
        f"**{ENGINE_LABELS.get(engine, engine)}** cannot run here: {reason}."
        for engine, reason in status.items()
        if reason is not None
    ]
    return choices, default, "\n\n".join(notes)


# ----------------------------------------------------------------------------------------------
# per-request output folders


@functools.cache
def output_root() -> Path:
    """This process's folder for request outputs; removed when the process exits."""
    root = Path(tempfile.mkdtemp(prefix="emocast-app-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


def new_request_dir() -> Path:
    """A fresh folder for one request's files; folders older than OUTPUT_MAX_AGE_S are removed.

    Gradio copies returned files into its own cache (cleaned by Blocks(delete_cache=...)), so our
    copies are only needed for a moment after the handler returns.
    """
    root = output_root()
    now = time.time()
    for old in root.iterdir():
        try:
            if now - old.stat().st_mtime > OUTPUT_MAX_AGE_S:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:  # removed by a concurrent request
            pass
    return Path(tempfile.mkdtemp(prefix="req-", dir=root))


# ----------------------------------------------------------------------------------------------
# generate


@dataclass
class GenerateResult:
    """What one generation gives the page."""

    video: Path
    plan: Any  # emocast.emotion.plan.EmotionPlan
    curve: tuple[Any, Any, list[str]]  # (times s, intensity 0..1, emotion per sample)
    warnings: list[str]  # what the stages warned about (several faces, closed eyes, a small face, ...)


def make_options(
    intensity: float,
    engine: str = "mesh",
    size: int = 512,
    fps: int = 25,
    head_motion: float = 0.5,
    blink: bool = True,
    voice_strength: float = 0.5,
    seed: int = 0,
    keep_frame: bool = False,
) -> GenerateOptions:
    """GenerateOptions from the UI's values (which may arrive as floats or strings); checked."""
    try:
        options = GenerateOptions(
            intensity=float(intensity),
            engine=str(engine or "mesh"),
            size=int(size),
            fps=int(fps),
            seed=int(seed or 0),
            head_motion=float(head_motion),
            blink=bool(blink),
            voice_strength=float(voice_strength),
            keep_frame=bool(keep_frame),
            weights=weights_from_env(),
        )
    except (TypeError, ValueError) as e:
        raise EmocastError(f"an option has an unusable value ({e}); reset the advanced options") from e
    return options.check()


def run_generate(
    image: str | os.PathLike,
    audio: str | os.PathLike,
    prompt: str,
    options: GenerateOptions,
    out_dir: Path,
    report: ReportFn | None = None,
    name: str = "emocast.mp4",
) -> GenerateResult:
    """Render one video into out_dir and read back its emotion plan and intensity curve.

    Args:
        image: portrait file. audio: speech file. prompt: emotion text.
        options: checked GenerateOptions (intensity 0..1 included).
        out_dir: folder for the video.
        report: report(overall fraction 0..1, description) for a progress bar.
        name: the video's file name.

    Raises:
        EmocastError: the inputs cannot be used (message is for the user).
    """
    import emocast

    stage_progress = StageProgress(report or (lambda fraction, description: None))
    with stage_warnings() as warnings:
        video = _generate_call(options)(
            image, audio, prompt, out=out_dir / name, options=options, progress=stage_progress
        )
    plan = emocast.analyze_prompt(prompt, intensity=options.intensity)
    curve = intensity_curve(plan, audio, options)
    return GenerateResult(video=Path(video), plan=plan, curve=curve,
                          warnings=[w for w in dict.fromkeys(warnings) if w not in plan.warnings])


@contextmanager
def stage_warnings() -> Iterator[list[str]]:
    """Collect the warnings emocast's stages log on this thread while the block runs (other
    requests' threads keep theirs), so the page can show them."""
    import threading

    found: list[str] = []
    thread = threading.get_ident()

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread:
                found.append(record.getMessage())

    handler = _Collect(logging.WARNING)
    library = logging.getLogger("emocast")
    library.addHandler(handler)
    try:
        yield found
    finally:
        library.removeHandler(handler)


def generate_handler(
    image: str | None,
    audio: str | None,
    prompt: str | None,
    intensity: float,
    engine: str,
    size: int,
    fps: int,
    head_motion: float,
    blink: bool,
    voice_strength: float,
    seed: int,
    keep_frame: bool,
    progress: gr.Progress = gr.Progress(),
) -> tuple[str, str, Any]:
    """Generate button -> (video path, emotion plan as Markdown, intensity plot figure)."""
    with user_errors():
        image, audio, prompt = check_uploads(image, audio, prompt)
        options = make_options(intensity, engine, size, fps, head_motion, blink, voice_strength, seed, keep_frame)
        progress(0.0, desc="Starting")
        result = run_generate(image, audio, prompt, options, new_request_dir(), gradio_report(progress))
        text = describe_plan(result.plan) + "".join(f"\n\n⚠️ {warning}" for warning in result.warnings)
        return str(result.video), text, intensity_figure(*result.curve, title=result.plan.emotion)


def check_uploads(image: str | None, audio: str | None, prompt: str | None) -> tuple[str, str, str]:
    """Stop early, with a message saying what to do, when something was not given."""
    if not image:
        raise EmocastError("Upload a portrait photo first (or click one of the example portraits).")
    if not audio:
        raise EmocastError("Upload or record some speech first (or click one of the example clips).")
    if not prompt or not prompt.strip():
        raise EmocastError("Describe the emotion in the prompt box, or pick a preset.")
    return image, audio, prompt.strip()


@contextmanager
def user_errors() -> Iterator[None]:
    """EmocastError -> gr.Error with its message; anything unexpected -> a generic gr.Error + log."""
    try:
        yield
    except gr.Error:
        raise
    except EmocastError as e:
        message = str(e)
        raise gr.Error(message[:1].upper() + message[1:], title="Cannot make the video", print_exception=False) from e
    except Exception as e:  # noqa: BLE001 - shown as a readable message; the traceback goes to the log
        logger.exception("unexpected error in an app handler")
        raise gr.Error(GENERIC_ERROR, title="Unexpected error") from e


def _generate_call(options: GenerateOptions) -> Callable[..., Path]:
    """emocast.generate, wrapped in spaces.GPU when it will run the diffusion engine on a Space."""
    import emocast

    if options.engine == "mesh":
        return emocast.generate
    from emocast.pipeline import select_engine

    if select_engine(options) == "diffusion":
        gpu_generate = zero_gpu_generate()
        if gpu_generate is not None:
            return gpu_generate
    return emocast.generate


@functools.cache
def zero_gpu_generate() -> Callable[..., Path] | None:
    """emocast.generate under `spaces.GPU` (Hugging Face ZeroGPU), or None without `spaces`.

    Called once before launch (ZeroGPU wants decorated functions to exist at startup) and only the
    diffusion engine goes through it: the mesh engine never asks for a GPU.
    """
    try:
        import spaces
    except ImportError:
        return None
    import emocast

    @spaces.GPU(duration=GPU_DURATION_S)
    def generate_on_gpu(*args: Any, **kwargs: Any) -> Path:
        return emocast.generate(*args, **kwargs)

    return generate_on_gpu


# ----------------------------------------------------------------------------------------------
# emotion plan: text and intensity plot


def describe_plan(plan: Any) -> str:
    """The emotion plan as short Markdown: label, intensity, muscles, timeline, warnings."""
    p = plan.probabilities.get(plan.emotion, 0.0)
    lines = [
        f"**Emotion:** {plan.emotion} ({p:.0%} sure) · **intensity** {plan.intensity:.0%}",
        "",
        f"**What the face does:** {plan.description or 'a relaxed, neutral face'}",
    ]
    phases: list[list] = []  # [emotion, start t, end t, peak intensity] per run of keyframes
    for key in plan.timeline:
        if phases and phases[-1][0] == key.emotion:
            phases[-1][2], phases[-1][3] = key.t, max(phases[-1][3], key.intensity)
        else:
            phases.append([key.emotion, key.t, key.t, key.intensity])
    if len(phases) > 1:
        lines += ["", "**Over the clip:**"]
        for i, (emotion, start, end, peak) in enumerate(phases):
            end = phases[i + 1][1] if i + 1 < len(phases) else 1.0
            lines.append(f"- {start:.0%} to {end:.0%} of the clip: {emotion} (intensity {peak:.0%})")
    for warning in plan.warnings:
        lines += ["", f"⚠️ {warning}"]
    return "\n".join(lines)


def intensity_curve(plan: Any, audio: str | os.PathLike, options: GenerateOptions) -> tuple[Any, Any, list[str]]:
    """(times in s, expression intensity 0..1, emotion label) per video frame of the clip.

    Uses the same expression_track the renderer uses, on the speech's prosody, so the plot shows the
    voice-driven rise and fall as well as the plan's timeline.
    """
    import numpy as np

    from emocast.audio.features import frame_features
    from emocast.audio.load import load_audio
    from emocast.audio.prosody import compute_prosody
    from emocast.audio.vad import voice_activity
    from emocast.emotion.expression import expression_track

    track = load_audio(audio, max_seconds=options.max_audio_seconds)
    num_frames = max(1, int(round(track.duration * options.fps)))
    features = frame_features(track.samples)
    prosody = compute_prosody(track.samples, features, voice_activity(features), options.fps, num_frames)
    expression = expression_track(plan, prosody, voice_strength=options.voice_strength)
    times = np.arange(len(expression.intensity), dtype=np.float32) / options.fps
    return times, expression.intensity, list(expression.emotions)


EMOTION_COLORS = {
    "angry": "#d62728", "contempt": "#8c564b", "disgusted": "#2ca02c", "fear": "#9467bd",
    "happy": "#ff9f1c", "neutral": "#7f7f7f", "sad": "#1f77b4", "surprised": "#e377c2",
}  # fmt: skip


def intensity_figure(times: Any, intensity: Any, emotions: list[str], title: str = "") -> Any:
    """A small matplotlib Figure of expression intensity over the clip, coloured by emotion."""
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: safe in Gradio's worker threads

    times, intensity = np.asarray(times, np.float32), np.asarray(intensity, np.float32)
    fig = Figure(figsize=(6.0, 2.2), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    start = 0
    for i in range(1, len(emotions) + 1):  # one coloured run per stretch of the same emotion
        if i == len(emotions) or emotions[i] != emotions[start]:
            stop = min(i + 1, len(times))
            color = EMOTION_COLORS.get(emotions[start], "#333333")
            seen = emotions[start] in emotions[:start]
            ax.plot(times[start:stop], intensity[start:stop], color=color, lw=1.8,
                    label=None if seen else emotions[start])  # fmt: skip
            ax.fill_between(times[start:stop], 0, intensity[start:stop], color=color, alpha=0.15)
            start = i
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, float(times[-1]) if len(times) > 1 else 1.0)
    ax.set_xlabel("seconds")
    ax.set_ylabel("intensity")
    ax.set_title(f"Expression intensity{': ' + title if title else ''}", fontsize=10)
    ax.legend(loc="lower right", fontsize=8, frameon=False, ncol=4)
    ax.grid(alpha=0.3)
    return fig


# ----------------------------------------------------------------------------------------------
# compare


@dataclass
class CompareResult:
    """Each rendered variant and the grid video that plays them together."""

    videos: list[Path]
    labels: list[str]
    grid: Path


def compare_rows(prompts: list[str | None], intensities: list[float]) -> list[tuple[str, float]]:
    """The filled rows of the Compare tab as (prompt, intensity); needs 2 to 4 of them."""
    rows = [(p.strip(), float(i)) for p, i in zip(prompts, intensities) if p and p.strip()]
    if len(rows) < 2:
        raise EmocastError("Fill in at least two prompts to compare (the same prompt twice compares intensities).")
    if len(rows) > MAX_COMPARE:
        raise EmocastError(f"Compare at most {MAX_COMPARE} prompts at a time.")
    return rows


def compare_label(prompt: str, intensity: float) -> str:
    """Caption under a grid cell."""
    from emocast.app_support.grid import LABEL_SEPARATOR

    return f"{' '.join(prompt.split())}{LABEL_SEPARATOR}{intensity:.0%}"


def run_compare(
    image: str | os.PathLike,
    audio: str | os.PathLike,
    rows: list[tuple[str, float]],
    options: GenerateOptions,
    out_dir: Path,
    report: ReportFn | None = None,
) -> CompareResult:
    """Render each (prompt, intensity) row with the same portrait, speech and options, then the grid."""
    from dataclasses import replace

    from emocast.app_support.grid import make_grid_video

    report = report or (lambda fraction, description: None)
    videos, labels = [], []
    share = 0.9 / len(rows)  # the last 10% of the bar is the grid
    for i, (prompt, intensity) in enumerate(rows):
        progress = StageProgress(report, i * share, (i + 1) * share, prefix=f"Clip {i + 1} of {len(rows)}: ")
        row_options = replace(options, intensity=intensity).check()
        video = _generate_call(row_options)(
            image, audio, prompt, out=out_dir / f"clip{i + 1}.mp4", options=row_options, progress=progress
        )
        videos.append(Path(video))
        labels.append(compare_label(prompt, intensity))
    report(0.9, "Putting the clips side by side")
    grid = make_grid_video(videos, labels, out_dir / "comparison.mp4", audio=audio)
    report(1.0, "Done")
    return CompareResult(videos=videos, labels=labels, grid=grid)


def compare_handler(
    image: str | None,
    audio: str | None,
    prompt1: str | None,
    intensity1: float,
    prompt2: str | None,
    intensity2: float,
    prompt3: str | None,
    intensity3: float,
    prompt4: str | None,
    intensity4: float,
    engine: str,
    size: int,
    seed: int,
    progress: gr.Progress = gr.Progress(),
) -> tuple[Any, ...]:
    """Compare button -> (4 cell videos, shown or hidden; the grid video; the grid as a download)."""
    with user_errors():
        image, audio, _ = check_uploads(image, audio, "compare")
        rows = compare_rows([prompt1, prompt2, prompt3, prompt4], [intensity1, intensity2, intensity3, intensity4])
        options = make_options(rows[0][1], engine, size, seed=seed)
        progress(0.0, desc="Starting")
        result = run_compare(image, audio, rows, options, new_request_dir(), gradio_report(progress))
        cells = [
            gr.update(value=str(video), label=label, visible=True) for video, label in zip(result.videos, result.labels)
        ]
        cells += [gr.update(value=None, visible=False)] * (MAX_COMPARE - len(cells))
        return (*cells, str(result.grid), str(result.grid))
