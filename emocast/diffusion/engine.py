"""The ``--engine diffusion`` entry point: files in, MP4 out, through EmoCASTPipeline.

understand (emotion prompt -> emotive text) -> listen (16 kHz speech) -> face (landmarks, crop,
identity embedding, region masks) -> animate (diffusion, clip by clip) -> encode (streaming MP4).

The user-facing engine needs a CUDA GPU and the weights (``unavailable_reason`` says which is
missing). Tests pass a tiny random pipeline and a face embedder explicitly, which runs on a CPU.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError
from emocast.options import GenerateOptions

logger = logging.getLogger(__name__)

FACE_BOX_EXPAND = 1.2  # face-locator region: the landmark box grown by this factor (released value)
DEFAULT_GUIDANCE = 3.5  # released classifier-free guidance strength

_PIPELINES: dict = {}  # (weights, device, dtype) -> (pipeline, face embedder), loaded once per process


def unavailable_reason(weights: Path | None) -> str | None:
    """None when the diffusion engine can run here (CUDA GPU and every weight file), else why not."""
    from emocast.diffusion.weights import cuda_reason, locate_weights

    reason = cuda_reason()
    if reason:
        return reason
    _, missing = locate_weights(weights)
    if missing:
        return missing
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "onnxruntime is not installed (pip install onnxruntime-gpu), needed for the face embedding"
    return None


def emotive_text(plan) -> str:
    """The CLIP prompt: dominant emotion with its degree, the face it makes, then the user's words."""
    degree = "slightly" if plan.intensity < 0.35 else "clearly" if plan.intensity < 0.7 else "intensely"
    return f"a {degree} {plan.emotion} face, {plan.description}. {plan.text}".strip()


def generate_diffusion(
    image: Path,
    audio: Path,
    prompt: str,
    out: Path,
    options: GenerateOptions,
    progress: Callable[[str, float], None],
    *,
    pipeline=None,
    face_embedder=None,
) -> Path:
    """Make the video with the diffusion engine; stream it to ``out``.

    Args:
        image, audio, prompt, out, options, progress: as ``emocast.generate``.
        pipeline: an EmoCASTPipeline to use instead of loading the real one (tests: a tiny CPU one).
        face_embedder: with ``pipeline``: (image, landmarks) -> embedding.
    """
    import torch

    from emocast.audio.load import load_audio
    from emocast.emotion.analyze import analyze_prompt
    from emocast.face.crop import crop_face
    from emocast.face.detect import detect_face
    from emocast.face.image import load_portrait
    from emocast.face.masks import region_masks
    from emocast.video import VideoWriter

    # 1. understand: prompt -> emotive text; intensity steers the text guidance
    progress("prompt", 0.0)
    plan = analyze_prompt(prompt, intensity=options.intensity)
    for warning in plan.warnings:
        logger.warning(warning)
    text = emotive_text(plan)

    # 2. listen
    progress("audio", 0.0)
    track = load_audio(audio, max_seconds=options.max_audio_seconds)

    # 3. model, face crop at the model's working size, identity, masks
    progress("load", 0.0)
    if pipeline is None:
        pipeline, face_embedder = _load_real(options.weights)
    if face_embedder is None:
        raise EmocastError("a face embedder is needed with a custom pipeline")
    side = pipeline.size_multiple
    work = max(side, int(round(options.size / side)) * side)
    portrait = load_portrait(image)
    face = detect_face(portrait)
    crop = crop_face(face, work)
    for warning in crop.warnings:  # the face's own + the crop's (edge, small)
        logger.warning(warning)
    embedding = face_embedder(crop.image, crop.landmarks)
    masks = region_masks(crop.landmarks, (work, work))
    stacked = np.stack([masks["pose"], masks["expression"], masks["lip"]])  # full / face / lip order

    # 4. animate + 5. encode, clip by clip
    num_frames = max(1, int(math.ceil(track.duration * options.fps)))
    generator = torch.Generator(device="cpu").manual_seed(options.seed)
    strength = 1.0 + (DEFAULT_GUIDANCE - 1.0) * plan.intensity / 0.8  # 0.8 (default slider) = released

    def report(clip: int, clips: int, step: int, steps: int) -> None:
        progress("diffusion", (clip + step / steps) / clips)

    clips = pipeline.iter_clips(
        crop.image, track.samples, text, embedding, face_region=face_box_mask(crop.box, work), region_masks=stacked,
        fps=options.fps, num_inference_steps=options.steps, text_guidance_scale=strength, generator=generator,
        progress=report,
    )
    size = (options.size, options.size)
    written = 0
    with VideoWriter(out, fps=options.fps, size=size, audio_path=audio, audio_samples=track.samples) as writer:
        for frames in clips:
            for frame in frames:
                writer.write(_resize(frame, options.size))
            written += len(frames)
            progress("render", written / num_frames)
    progress("done", 1.0)
    return out


def face_box_mask(box: tuple[float, float, float, float], size: int) -> np.ndarray:
    """(size, size) 0/1 mask of the face box grown by FACE_BOX_EXPAND (the face locator's input)."""
    x0, y0, x1, y1 = box
    cx, cy, half_w, half_h = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 * FACE_BOX_EXPAND, (y1 - y0) / 2 * FACE_BOX_EXPAND
    mask = np.zeros((size, size), np.float32)
    rows = slice(max(0, int(cy - half_h)), min(size, int(math.ceil(cy + half_h))))
    cols = slice(max(0, int(cx - half_w)), min(size, int(math.ceil(cx + half_w))))
    mask[rows, cols] = 1.0
    return mask


def _resize(frame: np.ndarray, size: int) -> np.ndarray:
    if frame.shape[0] == size and frame.shape[1] == size:
        return frame
    import cv2

    return cv2.resize(frame, (size, size), interpolation=cv2.INTER_AREA if frame.shape[0] > size else cv2.INTER_CUBIC)


def _load_real(weights: Path | None):
    """Load (once per process) the real pipeline on the GPU in bf16 (fp16 where bf16 is unsupported)."""
    import torch

    from emocast.diffusion.weights import ArcFaceEmbedder, locate_weights

    reason = unavailable_reason(weights)
    if reason:
        raise EmocastError(f"the diffusion engine cannot run here: {reason}")
    paths, _ = locate_weights(weights)
    device = torch.device("cuda")
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    key = (str(weights), str(device), str(dtype))
    if key not in _PIPELINES:
        from emocast.diffusion.weights import load_pipeline

        _PIPELINES[key] = (load_pipeline(paths, device, dtype), ArcFaceEmbedder(paths.arcface))
    return _PIPELINES[key]
