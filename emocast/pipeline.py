"""generate(): portrait + speech + emotion prompt -> MP4, for both engines.

Data flows one way: understand (emotion) -> listen (audio) -> face -> animate (motion) -> render ->
encode (video). Each stage hands a plain dataclass to the next.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from emocast.errors import EmocastError, check_input_file
from emocast.options import GenerateOptions, check_prompt

logger = logging.getLogger(__name__)

ProgressFn = Callable[[str, float], None]  # (stage name, fraction 0..1 of that stage)


def generate(
    image: str | os.PathLike,
    audio: str | os.PathLike,
    prompt: str,
    intensity: float | None = None,
    out: str | os.PathLike = "emocast.mp4",
    options: GenerateOptions | None = None,
    progress: ProgressFn | None = None,
    timings: dict[str, float] | None = None,
    **option_overrides,
) -> Path:
    """Make a talking-portrait video.

    Args:
        image: portrait photo path.
        audio: speech recording path (wav, mp3, flac, ogg, m4a/aac, webm/opus).
        prompt: free-text emotion description, at most 1000 characters.
        intensity: 0..1; overrides `options.intensity` when given.
        out: the .mp4 to write (written atomically; never one of the inputs).
        options: rendering options; defaults to GenerateOptions().
        progress: called as progress(stage, fraction) while working.
        timings: if given, filled with seconds spent per stage (prompt, audio, face, motion, render, encode).
        **option_overrides: any GenerateOptions field, e.g. size=256, fps=25, seed=1.

    Returns:
        The path of the written video.

    Raises:
        EmocastError: for anything wrong with the inputs (one-line message).
    """
    from dataclasses import replace

    options = replace(options or GenerateOptions(), **option_overrides)
    if intensity is not None:
        options.intensity = float(intensity)
    options.check()
    prompt = check_prompt(prompt)
    image, audio = check_input_file(image, "image"), check_input_file(audio, "audio")
    from emocast.video import check_output_path

    out = check_output_path(out, inputs=(image, audio))
    progress = progress or (lambda stage, fraction: None)

    engine = select_engine(options)
    if engine == "diffusion":
        from emocast.diffusion.engine import generate_diffusion

        return generate_diffusion(image, audio, prompt, out, options, progress)
    return _generate_mesh(image, audio, prompt, out, options, progress, timings if timings is not None else {})


def select_engine(options: GenerateOptions) -> str:
    """Resolve "auto" and check that the chosen engine can run here (EmocastError if not)."""
    if options.engine == "mesh":
        return "mesh"
    from emocast.diffusion.engine import unavailable_reason

    reason = unavailable_reason(options.weights)
    if options.engine == "diffusion":
        if reason:
            raise EmocastError(f"the diffusion engine cannot run here: {reason}; use --engine mesh")
        return "diffusion"
    if reason:
        logger.info("engine auto: using mesh (%s)", reason)
        return "mesh"
    return "diffusion"


def _generate_mesh(
    image: Path,
    audio: Path,
    prompt: str,
    out: Path,
    options: GenerateOptions,
    progress: ProgressFn,
    timings: dict[str, float],
) -> Path:
    # the other stages are imported later (~0.5 s): the phone helper gets going first
    from emocast.audio.load import load_audio
    from emocast.audio.speech import SpeechAnalysis

    clock = _StageClock(timings)

    # 1. listen: audio -> prosody + visemes per video frame; first, so that a helper process
    # decodes phones while this one reads the prompt and the face
    progress("audio", 0.0)
    track = load_audio(audio, max_seconds=options.max_audio_seconds)
    listening = SpeechAnalysis(track, fps=options.fps)
    clock.lap("audio")

    try:
        # 2. understand: prompt -> emotion plan
        progress("prompt", 0.0)
        from emocast.emotion.analyze import analyze_prompt

        plan = analyze_prompt(prompt, intensity=options.intensity)
        clock.lap("prompt")
        for warning in plan.warnings:
            logger.warning(warning)

        # 3. face: landmarks on the portrait, face-centred crop
        progress("face", 0.0)
        from emocast.face.crop import crop_face
        from emocast.face.detect import detect_face
        from emocast.face.image import load_portrait

        portrait = load_portrait(image)
        face = detect_face(portrait, source=image.name)
        crop = crop_face(face, options.size)
    except BaseException:
        listening.close()  # no face, not an image, Ctrl-C: stop the phone helper now
        raise
    for warning in crop.warnings:  # the face's own (several faces, tilt, closed eyes) + the crop's (edge, small)
        logger.warning(warning)
    clock.lap("face")
    # the later stages' modules load (~0.3 s) while the phone helper may still be decoding
    from emocast.emotion.expression import expression_track
    from emocast.motion.animate import plan_motion
    from emocast.render.frames import render_frames
    from emocast.video import VideoWriter

    speech = listening.result()
    clock.lap("audio")

    # 4. animate: expression per frame (voice-modulated) + visemes + head motion + blinks
    progress("motion", 0.0)
    expression = expression_track(plan, speech.prosody, voice_strength=options.voice_strength)
    motion = plan_motion(crop, expression, speech, options)
    clock.lap("motion")

    # 5. render + encode, streaming frame by frame
    frames = render_frames(crop, motion)
    if options.keep_frame:
        from emocast.render.composite import composite_frames, composite_size

        frames = composite_frames(face, crop, frames)
        size = composite_size(face)  # the whole picture, capped and even
    else:
        size = (options.size, options.size)
    with VideoWriter(out, fps=options.fps, size=size, audio_path=audio, audio_samples=track.samples) as writer:
        for i, frame in enumerate(frames):
            clock.lap("render")
            writer.write(frame)
            clock.lap("encode")
            if i % 10 == 0:
                progress("render", i / max(speech.num_frames, 1))
    clock.lap("encode")
    progress("done", 1.0)
    return out


class _StageClock:
    """Accumulates wall time per stage into a dict (seconds)."""

    def __init__(self, timings: dict[str, float]) -> None:
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.timings = timings

    def lap(self, stage: str) -> None:
        now = self._now()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self._last
        self._last = now
