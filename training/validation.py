"""Validation videos during training: the current weights animate a few dataset clips.

For each of the first `logging.validation_clips` clips, the first frames are denoised from pure
noise with DDIM (zero-SNR, v-prediction, `logging.validation_inference_steps` steps) using the
clip's reference frame, first text and audio, and written next to the real frames:
``OUTPUT/validation/<stage>-step<N>-<clip>.mp4`` (left: real, right: generated).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from training.data import ClipDataset, collate
from training.models import VAE_SCALING, make_scheduler

VALIDATION_INDEX = 2**62  # sample index of validation samples (training samples count up from 0)
VALIDATION_SEED = 1234  # the same starting noise at every validation, so videos are comparable


@torch.no_grad()
def render_validation(trainer, net, stage, step: int) -> list[Path]:
    """Render the validation clips of `trainer` with `net`; returns the written video paths."""
    from emocast.video import VideoWriter

    config = trainer.config
    dataset = trainer.dataset(stage)
    dataset.text_dropout = dataset.audio_dropout = dataset.reference_dropout = 0.0
    window = config.stage_num_frames(stage) + config.data.motion_frames if stage.stage == 2 else 1
    clips = [i for i, clip in enumerate(trainer.clips) if clip.num_frames >= window][: config.logging.validation_clips]
    out_dir = trainer.output_dir / "validation"
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for clip_index in clips:
        batch = collate([_sample(dataset, clip_index)])
        encoded = trainer.encode_batch(batch, stage.stage)
        video = denoise(trainer, net, encoded, config.logging.validation_inference_steps)  # (F, H, W, 3) uint8
        real = ((batch["pixel_values"][0] if stage.stage == 2 else batch["pixel_values"][:1]) + 1) * 127.5
        real = real.clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
        side_by_side = np.concatenate([real, video], axis=2)
        path = out_dir / f"{stage.name}-step{step}-{trainer.clips[clip_index].id}.mp4"
        height, width = side_by_side.shape[1:3]
        fps = trainer.clips[clip_index].fps
        with VideoWriter(path, fps=int(round(fps)), size=(width, height)) as writer:
            for frame in side_by_side:
                writer.write(frame)
        paths.append(path)
    return paths


def _sample(dataset: ClipDataset, clip_index: int) -> dict:
    """A fixed sample of one clip (an index far beyond any training run's samples)."""
    return dataset[(VALIDATION_INDEX + clip_index, clip_index)]


@torch.no_grad()
def denoise(trainer, net, encoded: dict, steps: int) -> np.ndarray:
    """DDIM from noise to frames with the encoded conditioning; returns (F, H, W, 3) uint8."""
    scheduler = make_scheduler()
    scheduler.set_timesteps(steps, device=trainer.device)
    shape = encoded["latents"].shape  # (1, 4, F, h, w)
    latents = torch.randn(shape, generator=torch.Generator().manual_seed(VALIDATION_SEED)).to(trainer.device)
    for t in scheduler.timesteps:
        timesteps = t.expand(shape[0]).to(trainer.device)
        prediction = net(
            latents, timesteps, encoded["reference_latents"], encoded["face_embeds"], encoded["text_embeds"],
            encoded["audio_features"], encoded["face_region"], encoded["region_masks"], encoded["use_reference"],
        )  # fmt: skip
        latents = scheduler.step(prediction, t, latents).prev_sample
    frames = latents[0].permute(1, 0, 2, 3) / VAE_SCALING  # (F, 4, h, w)
    vae = trainer.components.vae
    images = vae.decode(frames.to(next(vae.parameters()).dtype)).sample.float()  # (F, 3, H, W)
    return ((images.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
