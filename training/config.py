"""Training configuration: small dataclasses loaded from one YAML file per stage / phase.

A file holds the shared sections (model, data, optim, logging) and a list of ``stages`` that run in
order; each stage may override the data mixture, learning rate, batch size and frames. The
released-size files (``training/configs/stage1.yaml``, ``stage2_phase{1,2,3}.yaml``) each hold one
stage and start from the previous one's ``net.pth``; ``tiny.yaml`` runs all four on a CPU.

The YAML is data only (``yaml.safe_load``); unknown keys are errors, so a typo never silently
falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

from emocast.errors import EmocastError


@dataclass
class ModelConfig:
    """Which network and which frozen encoders to build."""

    size: str = "real"  # "real": released sizes + pretrained weights; "tiny": small random models (CPU tests)
    pretrained_dir: str | None = None  # folder holding the base weights below (relative names resolve here)
    vae: str = "sd-vae-ft-mse"  # diffusers AutoencoderKL folder (stabilityai/sd-vae-ft-mse)
    text_encoder: str = "clip-vit-large-patch14"  # CLIPTextModel + CLIPTokenizer folder (openai/clip-vit-large-patch14)
    wav2vec: str = "wav2vec2-base-960h"  # Wav2Vec2Model folder (facebook/wav2vec2-base-960h)
    base_unet: str | None = "stable-diffusion-v1-5/unet"  # SD1.5 UNet folder used to initialise both UNets
    motion_module: str | None = "mm_sd_v15_v2.ckpt"  # AnimateDiff motion-module weights (stage 2 start)
    init_net: str | None = None  # a net.pth (or checkpoint folder) to start from; stage 2 starts from stage 1's
    resolution: int = 512  # training frame side, pixels (tiny: 32)
    gradient_checkpointing: bool = False  # trade compute for memory in both UNets


@dataclass
class DataConfig:
    """Where the clips come from and how a sample is cut from one."""

    roots: list[str] = field(default_factory=list)  # dataset folders made by training.build_dataset
    synthetic: bool = False  # no roots: render + build the synthetic mini-dataset into OUTPUT/synthetic-data (tiny runs)
    mixture: dict[str, float] = field(default_factory=dict)  # source -> weight ("mead", "hdtf", "wild"); {} = by clip count
    min_sync: float | None = None  # drop clips whose sync confidence (LSE-C or agreement) is lower
    max_sync_distance: float | None = None  # drop clips whose LSE-D is higher (SyncNet scores only)
    emotion_aware: bool = True  # stage 1: reference frame from a neutral clip of the same identity
    num_frames: int = 14  # stage 2: frames denoised together per sample
    motion_frames: int = 2  # stage 2: preceding frames given as motion context
    text_dropout: float = 0.05  # probability of an empty prompt (classifier-free guidance)
    audio_dropout: float = 0.05  # probability of silent audio features (stage 2)
    reference_dropout: float = 0.05  # probability of a zero face embedding
    num_workers: int = 0  # DataLoader worker processes


@dataclass
class OptimConfig:
    """Optimiser, schedule, precision."""

    learning_rate: float = 1e-5
    lr_scheduler: str = "constant"  # constant | linear | cosine (after warmup)
    warmup_steps: int = 0
    batch_size: int = 4  # per device
    gradient_accumulation_steps: int = 1
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    weight_decay: float = 1e-2
    use_8bit_adam: bool = True  # bitsandbytes AdamW8bit when installed (CUDA only), else torch AdamW
    max_grad_norm: float = 1.0
    mixed_precision: str = "no"  # no | fp16 | bf16 (falls back to "no" on CPU)
    ema_decay: float = 0.0  # exponential moving average of the trained weights; 0 = off
    noise_offset: float = 0.05  # Hallo's noise offset (helps very dark / bright frames)


@dataclass
class LoggingConfig:
    """Logging, checkpoints and validation videos."""

    report_to: str = "auto"  # auto (tensorboard, then wandb, when installed) | tensorboard | wandb | none
    log_every: int = 10  # steps
    checkpoint_every: int = 500  # steps; a checkpoint is always written at the end of each stage
    keep_checkpoints: int = 3  # older step checkpoints are deleted
    validation_every: int = 0  # steps; 0 = no validation videos
    validation_inference_steps: int = 20  # DDIM steps of the validation videos
    validation_clips: int = 1  # dataset clips rendered as validation (their first frame is the portrait)
    project: str = "emocast"  # wandb project / tensorboard run name


@dataclass
class StageConfig:
    """One stage or phase of the progressive schedule."""

    name: str  # "stage1", "stage2_phase1", ...
    stage: int  # 1: spatial (image to image), 2: temporal (video)
    steps: int  # optimiser steps
    phase: int | None = None  # 1..3 of the progressive functional schedule (stage 2)
    mixture: dict[str, float] | None = None  # overrides data.mixture
    learning_rate: float | None = None  # overrides optim.learning_rate
    batch_size: int | None = None  # overrides optim.batch_size
    num_frames: int | None = None  # overrides data.num_frames


@dataclass
class TrainConfig:
    """A whole run: shared sections and the stages to run in order."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    stages: list[StageConfig] = field(default_factory=list)
    seed: int = 42
    output_dir: str = "outputs/emocast"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def stage_batch_size(self, stage: StageConfig) -> int:
        return stage.batch_size or self.optim.batch_size

    def stage_num_frames(self, stage: StageConfig) -> int:
        return stage.num_frames or self.data.num_frames


def load_config(path: str | os.PathLike) -> TrainConfig:
    """Read a training YAML into a TrainConfig; relative data roots resolve against the file's folder.

    Raises:
        EmocastError: missing file, bad YAML, unknown keys or wrong values.
    """
    import yaml

    path = Path(path).expanduser()
    if not path.is_file():
        raise EmocastError(f"config {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise EmocastError(f"config {path} is not valid YAML: {e}") from e
    config = config_from_dict(raw, str(path))
    base = path.parent
    config.data.roots = [str(_resolve(root, base)) for root in config.data.roots]
    return config


def config_from_dict(raw: dict, source: str = "config") -> TrainConfig:
    """Build a TrainConfig from a plain dict (as read from YAML), checking every key and value."""
    if not isinstance(raw, dict):
        raise EmocastError(f"{source} must be a mapping of sections (model, data, optim, logging, stages)")
    raw = dict(raw)
    stages = raw.pop("stages", None) or []
    config = _build(TrainConfig, {k: v for k, v in raw.items()}, source, nested={
        "model": ModelConfig, "data": DataConfig, "optim": OptimConfig, "logging": LoggingConfig,
    })  # fmt: skip
    if not isinstance(stages, list) or not stages:
        raise EmocastError(f"{source}: 'stages' must be a non-empty list of stages (name, stage, steps)")
    config.stages = [_build(StageConfig, s, f"{source} stage {i + 1}") for i, s in enumerate(stages)]
    check_config(config, source)
    return config


def check_config(config: TrainConfig, source: str = "config") -> None:
    """Raise EmocastError for values that cannot work."""
    if config.model.size not in ("real", "tiny"):
        raise EmocastError(f"{source}: model.size must be 'real' or 'tiny', not {config.model.size!r}")
    if config.optim.mixed_precision not in ("no", "fp16", "bf16"):
        raise EmocastError(f"{source}: optim.mixed_precision must be no, fp16 or bf16")
    if config.optim.lr_scheduler not in ("constant", "linear", "cosine"):
        raise EmocastError(f"{source}: optim.lr_scheduler must be constant, linear or cosine")
    if not 0.0 <= config.optim.ema_decay < 1.0:
        raise EmocastError(f"{source}: optim.ema_decay must be in [0, 1)")
    names = set()
    for stage in config.stages:
        if stage.stage not in (1, 2):
            raise EmocastError(f"{source}: stage {stage.name!r} must have stage 1 or 2")
        if stage.stage == 2 and stage.phase not in (None, 1, 2, 3):
            raise EmocastError(f"{source}: stage {stage.name!r} phase must be 1, 2 or 3")
        if stage.steps < 1:
            raise EmocastError(f"{source}: stage {stage.name!r} needs steps >= 1")
        if stage.name in names:
            raise EmocastError(f"{source}: two stages are named {stage.name!r}")
        names.add(stage.name)
        for mixture in (stage.mixture, config.data.mixture):
            for key, weight in (mixture or {}).items():
                if key not in ("mead", "hdtf", "wild") or float(weight) < 0:
                    raise EmocastError(f"{source}: mixture entries are mead/hdtf/wild with weights >= 0, got {key}: {weight}")
    if config.data.motion_frames < 0 or config.data.num_frames < 1:
        raise EmocastError(f"{source}: data.num_frames must be >= 1 and data.motion_frames >= 0")


def save_config(config: TrainConfig, path: str | os.PathLike) -> None:
    """Write the config as YAML (checkpoints carry the config they were trained with)."""
    import yaml

    Path(path).write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))


def model_path(config: ModelConfig, name: str | None) -> Path | None:
    """A model-component path: absolute, or relative to model.pretrained_dir."""
    if name is None:
        return None
    path = Path(name).expanduser()
    if not path.is_absolute() and config.pretrained_dir:
        path = Path(config.pretrained_dir).expanduser() / path
    return path


def _resolve(value: str, base: Path) -> Path:
    path = Path(os.path.expandvars(value)).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _build(cls, raw, source: str, nested: dict | None = None):
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise EmocastError(f"{source}: {cls.__name__} must be a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise EmocastError(f"{source}: unknown key(s) {', '.join(unknown)} in {cls.__name__}; known: {', '.join(fields)}")
    kwargs = {}
    for key, value in raw.items():
        if nested and key in nested:
            kwargs[key] = _build(nested[key], value, f"{source} [{key}]")
        else:
            kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise EmocastError(f"{source}: {e}") from e
