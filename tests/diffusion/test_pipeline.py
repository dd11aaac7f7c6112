"""The tiny EmoCAST pipeline end to end on a CPU: length, conditioning, guidance, save/load."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

RUN = dict(num_inference_steps=2, clip_frames=4, motion_frames=2, fps=25)


def _run(pipe, inputs, prompt="a happy face", audio=None, **kwargs):
    args = dict(RUN, face_region=inputs["face_region"], region_masks=inputs["region_masks"],
                generator=torch.Generator().manual_seed(0))
    args.update(kwargs)
    return pipe(inputs["portrait"], inputs["audio"] if audio is None else audio, prompt, inputs["face_embeds"], **args).frames


def _first_clip_latents(pipe, inputs, prompt="a happy face", audio=None, **kwargs):
    """The latents of the first clip (captured before decoding) for a sharper comparison."""
    captured = []
    original = pipe.decode_latents
    pipe.decode_latents = lambda latents, chunk=8: captured.append(latents.clone()) or original(latents, chunk)
    try:
        _run(pipe, inputs, prompt, audio, **kwargs)
    finally:
        pipe.decode_latents = original
    return captured[0]


def test_diffusion_pipeline_video_length(tiny_pipe, inputs):
    progress = []
    frames = _run(tiny_pipe, inputs, progress=lambda *p: progress.append(p))
    expected = int(np.ceil(len(inputs["audio"]) / 16000 * 25))  # 6 frames: one clip of 4 + a padded clip
    assert frames.shape == (expected, 32, 32, 3) and frames.dtype == np.uint8
    assert progress[-1] == (1, 2, 2, 2) and len(progress) == 4  # every step of every clip reported
    again = _run(tiny_pipe, inputs)
    assert np.array_equal(frames, again)  # seeded


def test_diffusion_prompt_changes_latents(tiny_pipe, inputs):
    happy = _first_clip_latents(tiny_pipe, inputs, "she just got her dream job")
    angry = _first_clip_latents(tiny_pipe, inputs, "brows knit, glaring")
    assert not torch.allclose(happy, angry)


def test_diffusion_audio_changes_latents(tiny_pipe, inputs):
    speech = _first_clip_latents(tiny_pipe, inputs)
    silent = _first_clip_latents(tiny_pipe, inputs, audio=np.zeros_like(inputs["audio"]))
    assert not torch.allclose(speech, silent)


def test_diffusion_guidance_branches():
    from emocast.diffusion.pipeline_emocast import BRANCH_FULL, BRANCH_UNCOND, guidance_branches

    assert guidance_branches(3.5, 3.5, 3.5) == ([BRANCH_UNCOND, BRANCH_FULL], [-2.5, 3.5])  # released CFG, batch 2
    assert guidance_branches(1.0, 1.0, 1.0) == ([BRANCH_FULL], [1.0])
    branches, weights = guidance_branches(2.0, 4.0, 3.0)
    assert len(branches) == 4 and sum(weights) == pytest.approx(1.0)  # an affine combination


def test_diffusion_separate_guidance_strengths_change_output(tiny_pipe, inputs):
    equal = _first_clip_latents(tiny_pipe, inputs)
    more_audio = _first_clip_latents(tiny_pipe, inputs, audio_guidance_scale=6.0)
    assert not torch.allclose(equal, more_audio)


def test_diffusion_audio_features_window(tiny_pipe, inputs):
    feats = tiny_pipe.encode_audio(inputs["audio"], num_frames=6, fps=25)
    assert feats.shape == (6, 5, 2, 32)  # frames, window, wav2vec2 layers, width
    assert torch.equal(feats[0, 2], feats[1, 1])  # windows slide one frame per video frame
    assert torch.equal(feats[0, 0], feats[0, 2])  # clamped at the start


def test_diffusion_check_inputs_messages(tiny_pipe, inputs):
    with pytest.raises(ValueError, match="multiples of 8"):
        tiny_pipe(inputs["portrait"][:30], inputs["audio"], "x", inputs["face_embeds"], **RUN)
    with pytest.raises(ValueError, match="clip_frames"):
        tiny_pipe(inputs["portrait"], inputs["audio"], "x", inputs["face_embeds"], clip_frames=40)


def test_diffusion_save_pretrained_round_trip(tiny_pipe, inputs, tmp_path):
    from emocast.diffusion.pipeline_emocast import EmoCASTPipeline

    tiny_pipe.save_pretrained(tmp_path)
    loaded = EmoCASTPipeline.from_pretrained(tmp_path)
    assert type(loaded.denoising_unet) is type(tiny_pipe.denoising_unet)
    assert loaded.scheduler.config.prediction_type == "v_prediction"
    assert loaded.scheduler.config.rescale_betas_zero_snr
    for name in ("reference_unet", "denoising_unet", "audio_proj"):
        a, b = getattr(tiny_pipe, name).state_dict(), getattr(loaded, name).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert np.array_equal(_run(tiny_pipe, inputs), _run(loaded.to(torch.float32), inputs))
