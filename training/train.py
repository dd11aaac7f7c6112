"""The progressive EmoCAST trainer (paper Sec. 3.4).

    python -m training.train --config FILE [--output-dir DIR] [--resume DIR]
    accelerate launch -m training.train --config training/configs/stage1.yaml   # one GPU or many

Stage 1, spatial (image to image): ReferenceNet, the denoising UNet's spatial layers, the face
locator and the face projection learn to redraw a target frame from a reference frame (with
emotion-aware sampling, a neutral frame of the same person). Stage 2, temporal: the motion
modules, the audio modules (with the emotive audio attention) and the audio projection learn to
animate windows of frames from audio, under the progressive functional schedule: phase 1 mixed
in-the-wild + lab data, phase 2 MEAD + HDTF, phase 3 HDTF only (mixtures in the config).

Loss: MSE between the network's prediction and the v-prediction target of the DDIM zero-SNR
scheduler (``scheduler.get_velocity``). Checkpoints hold the Net in the diffusion engine's
``net.pth`` layout plus everything needed to resume exactly (see training/checkpoint.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import logging
import math
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from emocast.errors import EmocastError
from training import checkpoint as ckpt
from training.config import StageConfig, TrainConfig, load_config
from training.data import ClipDataset, MixtureSampler, collate, load_clips
from training.ema import EMA
from training.models import VAE_SCALING, Components, build_components, enable_gradient_checkpointing, trainable_parameters

logger = logging.getLogger(__name__)


@dataclass
class StageResult:
    """What one stage did."""

    name: str
    steps: int  # optimiser steps run in this process (after a resume: the remaining ones)
    losses: list[float] = field(default_factory=list)  # per optimiser step
    net_path: Path | None = None  # OUTPUT/<stage>/net.pth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train", description="Train EmoCAST (stage 1, stage 2 phases 1-3).")
    parser.add_argument("--config", required=True, type=Path, help="training YAML (training/configs/*.yaml)")
    parser.add_argument("--output-dir", type=Path, help="where checkpoints and logs go (default: the config's output_dir)")
    parser.add_argument("--resume", type=Path, help="a checkpoint folder, or an output folder to resume its newest checkpoint")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        config = load_config(args.config)
        trainer = Trainer(config, output_dir=args.output_dir)
        results = trainer.run(resume=args.resume)
    except EmocastError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for result in results:
        last = f"{result.losses[-1]:.4f}" if result.losses else "-"
        print(f"{result.name}: {result.steps} steps, last loss {last}, weights {result.net_path}")
    return 0


class Trainer:
    """Runs the stages of a TrainConfig with accelerate (CPU, one GPU or several).

    Args:
        config: the run.
        output_dir: overrides config.output_dir.
    """

    def __init__(self, config: TrainConfig, output_dir: str | Path | None = None) -> None:
        from accelerate import Accelerator
        from accelerate.utils import DistributedDataParallelKwargs

        self.config = config
        self.output_dir = Path(output_dir or config.output_dir).expanduser()
        mixed_precision = config.optim.mixed_precision
        if mixed_precision != "no" and not torch.cuda.is_available():
            logger.warning("mixed precision %s needs a GPU; training in float32 on the CPU", mixed_precision)
            mixed_precision = "no"
        self.log_with = _trackers(config.logging.report_to)
        self.accelerator = Accelerator(
            mixed_precision=mixed_precision,
            gradient_accumulation_steps=config.optim.gradient_accumulation_steps,
            log_with=self.log_with or None,
            project_dir=str(self.output_dir),
            # stage 1 leaves the ReferenceNet's last up block unused; stage 2 the motion modules at F=1
            kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
        )
        self.device = self.accelerator.device
        self.weight_dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(mixed_precision, torch.float32)
        self.components: Components | None = None
        self.clips = None
        self.global_step = 0

    # --- setup ---------------------------------------------------------------------------------------

    def setup(self) -> Components:
        """Build the models (once) and read the dataset."""
        if self.components is not None:
            return self.components
        torch.manual_seed(self.config.seed)
        components = build_components(self.config.model, seed=self.config.seed)
        if self.config.model.gradient_checkpointing:
            wrapped = enable_gradient_checkpointing(components.net)
            logger.info("gradient checkpointing on %d ResNet blocks", wrapped)
        for module in (components.vae, components.text_encoder, components.audio_encoder.model):
            module.to(self.device, dtype=self.weight_dtype)
        components.net.to(self.device)
        data = self.config.data
        roots = list(data.roots)
        if data.synthetic and not roots:
            roots = [self.synthetic_dataset()]
        if not roots:
            raise EmocastError("the config names no data.roots; build a dataset with python -m training.build_dataset")
        self.clips = load_clips(roots, data.min_sync, data.max_sync_distance)
        self.components = components
        return components

    def synthetic_dataset(self) -> str:
        """Render and build the synthetic mini-dataset once (main process), under OUTPUT/synthetic-data."""
        from training.synthetic import build_synthetic_dataset

        folder = self.output_dir / "synthetic-data"
        if self.accelerator.is_main_process:
            logger.info("building the synthetic mini-dataset in %s", folder)
            build_synthetic_dataset(folder)
        self.accelerator.wait_for_everyone()
        return str(folder / "dataset")

    def dataset(self, stage: StageConfig) -> ClipDataset:
        data = self.config.data
        latent = self.config.model.resolution // self.components.network_config.vae_scale_factor
        return ClipDataset(
            self.clips, stage=stage.stage, resolution=self.config.model.resolution, seed=self.config.seed + 7919 * _stage_salt(stage),
            num_frames=self.config.stage_num_frames(stage), motion_frames=data.motion_frames,
            emotion_aware=data.emotion_aware, text_dropout=data.text_dropout, audio_dropout=data.audio_dropout,
            reference_dropout=data.reference_dropout, mask_resolution=latent,
        )  # fmt: skip

    def batches(self, stage: StageConfig, start_step: int):
        """Endless batches of this process for `stage`, starting at optimiser step `start_step`."""
        from torch.utils.data import DataLoader

        batch_size = self.config.stage_batch_size(stage)
        per_step = batch_size * self.config.optim.gradient_accumulation_steps
        window = (self.config.stage_num_frames(stage) + self.config.data.motion_frames) if stage.stage == 2 else 1
        sampler = MixtureSampler(
            self.clips, stage.mixture if stage.mixture is not None else self.config.data.mixture,
            seed=self.config.seed + 104729 * _stage_salt(stage), start=start_step * per_step,
            rank=self.accelerator.process_index, world_size=self.accelerator.num_processes, require_frames=window,
        )  # fmt: skip
        loader = DataLoader(
            self.dataset(stage), batch_size=batch_size, sampler=sampler, collate_fn=collate,
            num_workers=self.config.data.num_workers, persistent_workers=self.config.data.num_workers > 0,
        )  # fmt: skip
        return iter(loader)

    def make_optimizer(self, params: list[torch.nn.Parameter], learning_rate: float):
        optim = self.config.optim
        kwargs = dict(lr=learning_rate, betas=(optim.adam_beta1, optim.adam_beta2), eps=optim.adam_epsilon,
                      weight_decay=optim.weight_decay)  # fmt: skip
        if optim.use_8bit_adam and torch.cuda.is_available() and importlib.util.find_spec("bitsandbytes"):
            import bitsandbytes as bnb

            return bnb.optim.AdamW8bit(params, **kwargs)
        if optim.use_8bit_adam and torch.cuda.is_available():
            logger.info("bitsandbytes is not installed; using torch AdamW (pip install bitsandbytes for 8-bit Adam)")
        return torch.optim.AdamW(params, **kwargs)

    def make_lr_scheduler(self, optimizer, steps: int):
        from diffusers.optimization import get_scheduler

        return get_scheduler(self.config.optim.lr_scheduler, optimizer, num_warmup_steps=self.config.optim.warmup_steps,
                             num_training_steps=steps)  # fmt: skip

    # --- one step --------------------------------------------------------------------------------------

    @torch.no_grad()
    def encode_batch(self, batch: dict, stage: int, generator: torch.Generator | None = None) -> dict:
        """Frozen encoders: frames -> latents, texts -> CLIP tokens, audio -> wav2vec2 windows, face -> embedding."""
        c, device = self.components, self.device
        frames = batch["pixel_values"].to(device)
        frames = frames[:, None] if stage == 1 else frames  # (B, F, 3, H, W)
        latents = self.encode_frames(frames, generator)  # (B, F, 4, h, w)
        reference = batch["ref_pixel_values"].to(device)[:, None]  # (B, 1, 3, H, W)
        if stage == 2 and batch["motion_pixel_values"].shape[1] > 0:
            reference = torch.cat([reference, batch["motion_pixel_values"].to(device)], dim=1)  # (B, 1 + M, 3, H, W)
        reference_latents = self.encode_frames(reference, generator)

        tokens = c.tokenizer(list(batch["text"]), padding="max_length", max_length=c.text_tokens, truncation=True,
                             return_tensors="pt").input_ids.to(device)  # fmt: skip
        text_embeds = c.text_encoder(tokens).last_hidden_state.float()  # (B, 77, D)

        drop_reference = torch.tensor(batch["drop_reference"], device=device)
        face_embeds = c.face_encoder(batch["ref_pixel_values"]).to(device).float()  # (B, D_face)
        face_embeds = face_embeds * (~drop_reference)[:, None]

        num_frames = latents.shape[1]
        audio = self.audio_windows(batch, num_frames) if stage == 2 else None
        if audio is None:  # stage 1: no audio; the audio branch gets silence
            a = c.network_config.audio
            audio = torch.zeros(len(tokens), num_frames, a.seq_len, a.blocks, a.channels, device=device)
        masks = batch["masks"].to(device)[:, :, None]  # (B, 3, 1, h, w)
        return {
            "latents": latents.permute(0, 2, 1, 3, 4),  # (B, 4, F, h, w)
            "reference_latents": reference_latents,  # (B, 1 + M, 4, h, w)
            "text_embeds": text_embeds,
            "face_embeds": face_embeds,
            "audio_features": audio.float(),
            "face_region": batch["face_region"].to(device),  # (B, 3, H, W)
            "region_masks": masks,
            "use_reference": ~drop_reference,
        }

    def encode_frames(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, F, 3, H, W) in [-1, 1] -> (B, F, 4, h, w) scaled VAE latents (sampled)."""
        b, f = frames.shape[:2]
        flat = frames.flatten(0, 1).to(self.weight_dtype)  # (B*F, 3, H, W)
        distribution = self.components.vae.encode(flat).latent_dist
        noise = torch.randn(distribution.mean.shape, generator=generator).to(flat.device, distribution.mean.dtype)
        latents = (distribution.mean + distribution.std * noise) * VAE_SCALING
        return latents.float().unflatten(0, (b, f))

    def audio_windows(self, batch: dict, num_frames: int) -> torch.Tensor:
        """(B, F, seq_len, L, C) wav2vec2 windows t-2..t+2 per target frame (zeros where audio is dropped)."""
        window = self.components.audio_window
        half = window // 2
        rows = []
        for i in range(len(batch["text"])):
            if "audio_features" in batch:
                features = batch["audio_features"][i].to(self.device).float()  # (F, L, C)
                features = torch.cat([features[:1].expand(half, -1, -1), features, features[-1:].expand(half, -1, -1)])
            else:
                samples = batch["audio_samples"][i].numpy()
                features = self.components.audio_encoder(samples, num_frames + 2 * half).to(self.device)  # (F + 4, L, C)
            windows = features.unfold(0, window, 1).permute(0, 3, 1, 2)  # (F, seq_len, L, C)
            rows.append(windows * (0.0 if batch["drop_audio"][i] else 1.0))
        return torch.stack(rows)

    def loss(self, encoded: dict, generator: torch.Generator) -> torch.Tensor:
        """MSE between the prediction and the v-prediction target at random timesteps."""
        c = self.components
        latents = encoded["latents"]
        b = latents.shape[0]
        noise = torch.randn(latents.shape, generator=generator).to(self.device)
        if self.config.optim.noise_offset:
            noise = noise + self.config.optim.noise_offset * torch.randn((b, latents.shape[1], 1, 1, 1), generator=generator).to(self.device)
        timesteps = torch.randint(0, c.scheduler.config.num_train_timesteps, (b,), generator=generator).to(self.device)
        noisy = c.scheduler.add_noise(latents, noise, timesteps)
        target = c.scheduler.get_velocity(latents, noise, timesteps)
        prediction = self.net(
            noisy, timesteps, encoded["reference_latents"], encoded["face_embeds"], encoded["text_embeds"],
            encoded["audio_features"], encoded["face_region"], encoded["region_masks"], encoded["use_reference"],
        )  # fmt: skip
        return F.mse_loss(prediction.float(), target.float())

    def step_generator(self, stage_index: int, step: int, micro: int) -> torch.Generator:
        """Noise / timestep randomness of one micro-batch: a function of (seed, stage, step, micro, rank)."""
        entropy = [self.config.seed, stage_index, step, micro, self.accelerator.process_index]
        seed = int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0]) >> 1
        return torch.Generator().manual_seed(seed)

    def train_step(self, batches, stage: StageConfig, stage_index: int, step: int, fixed_batch: dict | None = None,
                   noise_seed: int | None = None) -> float:  # fmt: skip
        """One optimiser step (gradient accumulation included); returns the mean loss.

        Args:
            batches: the batch iterator (ignored when `fixed_batch` is given).
            fixed_batch: train on this batch instead (overfitting checks).
            noise_seed: use this fixed noise / timestep seed (overfitting checks).
        """
        losses = []
        autocast = self.accelerator.autocast() if self.weight_dtype != torch.float32 else nullcontext()
        for micro in range(self.config.optim.gradient_accumulation_steps):
            batch = fixed_batch if fixed_batch is not None else next(batches)
            with self.accelerator.accumulate(self.net):
                generator = torch.Generator().manual_seed(noise_seed) if noise_seed is not None else self.step_generator(stage_index, step, micro)
                encoded = self.encode_batch(batch, stage.stage, generator)
                with autocast:
                    loss = self.loss(encoded, generator)
                self.accelerator.backward(loss)
                if self.accelerator.sync_gradients and self.config.optim.max_grad_norm > 0:
                    self.accelerator.clip_grad_norm_(self.params, self.config.optim.max_grad_norm)
                self.optimizer.step()
                self.optimizer.zero_grad(set_to_none=True)
            losses.append(loss.detach().float())
        self.lr_scheduler.step()
        if self.ema is not None:
            self.ema.update(self.accelerator.unwrap_model(self.net))
        mean = torch.stack(losses).mean()
        return float(self.accelerator.reduce(mean, reduction="mean"))

    # --- stages ------------------------------------------------------------------------------------------

    def prepare_stage(self, stage: StageConfig, steps: int) -> None:
        """Select the stage's trainable parameters and build optimiser, LR schedule and EMA."""
        components = self.setup()
        net = components.net
        named = trainable_parameters(net, stage.stage)
        # motion frames feed every motion module in training (the released training path)
        net.denoising_unet.motion_frames_blocks = "all"
        self.params = [p for _, p in named]
        self.optimizer = self.make_optimizer(self.params, stage.learning_rate or self.config.optim.learning_rate)
        self.lr_scheduler = self.make_lr_scheduler(self.optimizer, steps)
        self.ema = EMA(named, self.config.optim.ema_decay) if self.config.optim.ema_decay > 0 else None
        self.net, self.optimizer = self.accelerator.prepare(net, self.optimizer)
        self.net.train()

    def run(self, resume: str | Path | None = None) -> list[StageResult]:
        """Run every stage in order (from a checkpoint when `resume` is given); returns per-stage results."""
        config = self.config
        self.setup()
        start_stage, start_step, resume_state = 0, 0, None
        if resume is not None:
            folder = ckpt.latest_checkpoint(resume)
            net_state, resume_state, rng = ckpt.load_checkpoint(folder, self.accelerator.process_index)
            self.components.net.load_state_dict(net_state)
            names = [s.name for s in config.stages]
            if resume_state["stage_name"] not in names:
                raise EmocastError(f"checkpoint {folder} is of stage {resume_state['stage_name']!r}, which this config lacks")
            start_stage, start_step = names.index(resume_state["stage_name"]), resume_state["stage_step"]
            self.global_step = resume_state["global_step"]
            if start_step >= config.stages[start_stage].steps:
                start_stage, start_step, resume_state = start_stage + 1, 0, None
            if rng is not None:
                ckpt.set_rng_state(rng)
            logger.info("resuming from %s (stage %s, step %d)", folder, names[min(start_stage, len(names) - 1)], start_step)

        if self.log_with and self.accelerator.is_main_process:
            self.accelerator.init_trackers(config.logging.project, config=_flat_config(config))
        results = []
        for index, stage in enumerate(config.stages):
            if index < start_stage:
                continue
            first = start_step if index == start_stage else 0
            results.append(self.run_stage(index, stage, first, resume_state if index == start_stage else None))
        self.export_final(results)
        self.accelerator.end_training()
        return results

    def run_stage(self, index: int, stage: StageConfig, first_step: int, resume_state: dict | None) -> StageResult:
        """Train one stage from `first_step` to stage.steps; checkpoint along the way and at the end."""
        self.prepare_stage(stage, stage.steps)
        if resume_state is not None:
            self.load_training_state(resume_state)
        batches = self.batches(stage, first_step)
        result = StageResult(name=stage.name, steps=0)
        log = self.output_dir / "log.jsonl"
        started = time.perf_counter()
        logger.info("stage %s: steps %d..%d, %d trainable tensors", stage.name, first_step + 1, stage.steps, len(self.params))
        for step in range(first_step, stage.steps):
            loss = self.train_step(batches, stage, index, step)
            self.global_step += 1
            result.losses.append(loss)
            result.steps += 1
            done = step + 1
            if not math.isfinite(loss):
                raise RuntimeError(f"stage {stage.name} step {done}: loss is {loss}; lower the learning rate")
            if self.accelerator.is_main_process and (done % self.config.logging.log_every == 0 or done == stage.steps or done == first_step + 1):
                record = {"stage": stage.name, "step": done, "global_step": self.global_step, "loss": loss,
                          "lr": self.lr_scheduler.get_last_lr()[0], "seconds": round(time.perf_counter() - started, 2)}  # fmt: skip
                self.output_dir.mkdir(parents=True, exist_ok=True)
                with open(log, "a") as f:
                    f.write(json.dumps(record) + "\n")
                if self.log_with:
                    self.accelerator.log({f"{stage.name}/loss": loss, f"{stage.name}/lr": record["lr"]}, step=self.global_step)
                logger.info("%s step %d/%d loss %.4f", stage.name, done, stage.steps, loss)
            every = self.config.logging.validation_every
            if every and done % every == 0 and self.accelerator.is_main_process:
                self.validate(stage, done)
            if done == stage.steps or done % self.config.logging.checkpoint_every == 0:
                self.save(stage, index, done)
        result.net_path = self.export_stage(stage)
        return result

    # --- checkpoints -------------------------------------------------------------------------------------

    def training_state(self, stage: StageConfig, index: int, step: int) -> dict:
        scaler = getattr(self.accelerator, "scaler", None)
        return {
            "stage_name": stage.name,
            "stage_index": index,
            "stage_step": step,
            "global_step": self.global_step,
            "optimizer": self.optimizer.state_dict(),
            "lr_scheduler": self.lr_scheduler.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "ema": self.ema.state_dict() if self.ema is not None else None,
        }

    def load_training_state(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.lr_scheduler.load_state_dict(state["lr_scheduler"])
        scaler = getattr(self.accelerator, "scaler", None)
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        if self.ema is not None and state.get("ema"):
            self.ema.load_state_dict(state["ema"])

    def save(self, stage: StageConfig, index: int, step: int) -> Path:
        """Write OUTPUT/checkpoints/<stage>-step<step>/ (all processes take part)."""
        import yaml

        folder = self.output_dir / "checkpoints" / f"{stage.name}-step{step}"
        self.accelerator.wait_for_everyone()
        main = self.accelerator.is_main_process
        net = self.accelerator.unwrap_model(self.net)
        ckpt.save_checkpoint(
            folder,
            net_state=net.state_dict() if main else None,
            training_state=self.training_state(stage, index, step) if main else {},
            config_yaml=yaml.safe_dump(self.config.to_dict(), sort_keys=False),
            rank=self.accelerator.process_index,
            ema_state=self.ema.averaged_state_dict(net) if (main and self.ema is not None) else None,
        )
        self.accelerator.wait_for_everyone()
        if main:
            ckpt.prune_checkpoints(folder.parent, self.config.logging.keep_checkpoints)
        return folder

    def export_stage(self, stage: StageConfig) -> Path:
        """OUTPUT/<stage>/net.pth (and net_ema.pth): the weights the next stage / the engine loads."""
        folder = self.output_dir / stage.name
        if self.accelerator.is_main_process:
            folder.mkdir(parents=True, exist_ok=True)
            net = self.accelerator.unwrap_model(self.net)
            torch.save(net.state_dict(), folder / ckpt.NET_FILE)
            if self.ema is not None:
                torch.save(self.ema.averaged_state_dict(net), folder / ckpt.EMA_FILE)
            (folder / "network_config.json").write_text(json.dumps(self.components.network_config.to_dict()))
        self.accelerator.wait_for_everyone()
        return folder / ckpt.NET_FILE

    def export_final(self, results: list[StageResult]) -> None:
        """OUTPUT/net.pth: the last stage's weights (what the diffusion engine loads)."""
        if not results or not self.accelerator.is_main_process:
            return
        import shutil

        last = results[-1].net_path
        shutil.copyfile(last, self.output_dir / ckpt.NET_FILE)
        shutil.copyfile(last.parent / "network_config.json", self.output_dir / "network_config.json")
        if (last.parent / ckpt.EMA_FILE).is_file():
            shutil.copyfile(last.parent / ckpt.EMA_FILE, self.output_dir / ckpt.EMA_FILE)

    # --- validation --------------------------------------------------------------------------------------

    @torch.no_grad()
    def validate(self, stage: StageConfig, step: int) -> list[Path]:
        """Render validation clips with the current weights: DDIM over the first frames of dataset clips.

        Writes OUTPUT/validation/<stage>-step<step>-<clip>.mp4 (target frames | generated frames side by side).
        """
        from training.validation import render_validation

        net = self.accelerator.unwrap_model(self.net)
        net.eval()
        try:
            with torch.random.fork_rng(devices=[]):  # validation must not change the training's random stream
                paths = render_validation(self, net, stage, step)
        finally:
            net.train()
        for path in paths:
            logger.info("validation video %s", path)
        return paths


def _stage_salt(stage: StageConfig) -> int:
    return stage.stage * 10 + (stage.phase or 0)


def _trackers(report_to: str) -> list[str]:
    """Loggers to use: the requested one(s) when installed ("auto": tensorboard, else wandb, else none)."""
    available = {name: importlib.util.find_spec(module) is not None
                 for name, module in (("tensorboard", "tensorboard"), ("wandb", "wandb"))}  # fmt: skip
    if report_to == "none":
        return []
    if report_to == "auto":
        return [name for name in ("tensorboard", "wandb") if available[name]][:1]
    if report_to in available:
        if not available[report_to]:
            raise EmocastError(f"logging.report_to is {report_to} but it is not installed; pip install {report_to} or use none")
        return [report_to]
    raise EmocastError(f"logging.report_to must be auto, tensorboard, wandb or none, not {report_to!r}")


def _flat_config(config: TrainConfig) -> dict:
    """Scalar hyper-parameters for the trackers (they do not take nested dicts or lists)."""
    flat = {}
    for section in ("model", "data", "optim"):
        for key, value in dataclasses.asdict(getattr(config, section)).items():
            if isinstance(value, (int, float, str, bool)):
                flat[f"{section}.{key}"] = value
    flat["seed"] = config.seed
    return flat


if __name__ == "__main__":
    sys.exit(main())
