"""The models a training run needs: EmoCAST's ``Net`` (trained) and the frozen encoders around it.

Real size (``model.size: real``) loads from local folders (nothing is downloaded):
SD1.5's UNet to initialise both UNets, AnimateDiff's motion module, ``sd-vae-ft-mse``,
CLIP ViT-L/14's text encoder + tokenizer, wav2vec2-base-960h, and an ArcFace ONNX model for the
512-d face embedding (or ``face_emb.npy`` files stored with the clips).

Tiny size (``model.size: tiny``) builds the same interfaces with small random models: the
diffusion engine's ``tiny_config()`` Net, a 3-level AutoencoderKL (4x downsampling, the tiny
config's ``vae_scale_factor``), a 2-layer CLIPTextModel with a byte-level tokenizer written to
disk, a 2-layer wav2vec2 and a fixed random projection of the grey reference face. They exist so
the whole trainer runs on a CPU in CI; their outputs mean nothing.

Stage split (paper Sec. 3.4, Hallo): stage 1 trains the ReferenceNet, the denoising UNet's spatial
layers (everything but motion and audio modules), the face locator and the face projection;
stage 2 trains the motion modules, the audio modules (with the emotive audio attention) and the
audio projection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from emocast.errors import EmocastError
from training.config import ModelConfig, model_path

logger = logging.getLogger(__name__)

VAE_SCALING = 0.18215  # SD1.5 latent scale
STAGE2_KEYS = ("motion_modules", "audio_modules")  # denoising_unet parts trained in stage 2 only
TINY_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1, norm_num_groups=8,
    block_out_channels=(8, 16, 16),
    down_block_types=("DownEncoderBlock2D",) * 3,
    up_block_types=("UpDecoderBlock2D",) * 3,
)  # fmt: skip


@dataclass
class Components:
    """Everything the training step uses."""

    net: nn.Module  # emocast.diffusion.net.Net, trained
    vae: nn.Module  # AutoencoderKL, frozen
    text_encoder: nn.Module  # CLIPTextModel, frozen
    tokenizer: object  # CLIPTokenizer
    audio_encoder: object  # training.audio_features.AudioEncoder, frozen
    face_encoder: "FaceEncoder"
    scheduler: object  # DDIMScheduler, zero-SNR v-prediction
    network_config: object  # emocast.diffusion.config.EmoCASTConfig

    @property
    def text_tokens(self) -> int:
        return int(self.network_config.text_tokens)

    @property
    def audio_window(self) -> int:
        return int(self.network_config.audio.seq_len)


def build_components(config: ModelConfig, seed: int = 0) -> Components:
    """Build the network and encoders for a run (random-init parts are seeded).

    Args:
        config: the run's model section.
        seed: seed for randomly initialised weights.
    """
    from emocast.diffusion.config import real_config, tiny_config
    from emocast.diffusion.net import Net

    network_config = tiny_config() if config.size == "tiny" else real_config()
    torch.manual_seed(seed)
    net = Net.from_config(network_config)
    if config.size == "tiny":
        vae, (text_encoder, tokenizer) = _tiny_vae(), _tiny_text(network_config)
        from training.audio_features import AudioEncoder

        audio_encoder, face_encoder = AudioEncoder.tiny(seed), FaceEncoder.tiny(network_config.face_embed_dim, seed)
    else:
        init_unets_from_sd15(net, config)
        vae, (text_encoder, tokenizer) = _real_vae(config), _real_text(config)
        from training.audio_features import AudioEncoder

        audio_encoder, face_encoder = AudioEncoder.from_pretrained(model_path(config, config.wav2vec)), FaceEncoder.arcface()
    if config.init_net:
        from training.checkpoint import load_net_weights

        missing, unexpected = net.load_state_dict(load_net_weights(config.init_net), strict=False)
        if unexpected or len(missing) > 0:
            logger.warning("init_net %s: %d missing, %d unexpected keys", config.init_net, len(missing), len(unexpected))
    if config.size == "real":
        init_motion_modules(net, config)  # after init_net: stage 1 never trained them
    for module in (vae, text_encoder, audio_encoder.model):
        module.requires_grad_(False).eval()
    return Components(net, vae, text_encoder, tokenizer, audio_encoder, face_encoder, make_scheduler(), network_config)


def make_scheduler():
    """DDIM with zero terminal SNR and v-prediction: the diffusion engine's own scheduler settings."""
    from diffusers import DDIMScheduler

    from emocast.diffusion.weights import scheduler_config

    return DDIMScheduler(num_train_timesteps=1000, **scheduler_config())


def trainable_parameters(net: nn.Module, stage: int) -> list[tuple[str, nn.Parameter]]:
    """Freeze everything, then unfreeze and return the (name, parameter) pairs `stage` trains."""
    net.requires_grad_(False)
    chosen = []
    for name, param in net.named_parameters():
        part = name.split(".", 1)[0]
        in_temporal = any(f".{key}." in f".{name}" for key in STAGE2_KEYS)
        if stage == 1:
            train = part in ("reference_unet", "face_locator", "imageproj") or (part == "denoising_unet" and not in_temporal)
        else:
            train = part == "audioproj" or (part == "denoising_unet" and in_temporal)
        if train:
            param.requires_grad_(True)
            chosen.append((name, param))
    if not chosen:
        raise RuntimeError(f"stage {stage} found nothing to train in the network")
    return chosen


def enable_gradient_checkpointing(net: nn.Module) -> int:
    """Recompute every ResNet block's activations in the backward pass; returns how many were wrapped.

    Only the ResNet blocks are wrapped: they are pure functions of their inputs, while the
    attention layers read and write the reference bank, which a recomputation must not touch.
    """
    from torch.utils.checkpoint import checkpoint

    count = 0
    for module in net.modules():
        if "Resnet" in type(module).__name__ and not getattr(module, "_checkpointed", False):
            forward = module.forward

            def wrapped(*args, _forward=forward, **kwargs):
                if torch.is_grad_enabled():
                    return checkpoint(_forward, *args, use_reentrant=False, **kwargs)
                return _forward(*args, **kwargs)

            module.forward = wrapped
            module._checkpointed = True
            count += 1
    return count


# --- encoders --------------------------------------------------------------------------------------


class FaceEncoder:
    """Reference frame -> identity embedding for ``imageproj`` (ArcFace at real size).

    Args:
        embed: function (H, W, 3) uint8 RGB -> (D,) float32.
        dim: D.
    """

    def __init__(self, embed, dim: int) -> None:
        self.embed, self.dim = embed, dim

    @classmethod
    def arcface(cls) -> "FaceEncoder":
        """insightface ArcFace (512-d) from $EMOCAST_ARCFACE_ONNX, on dlib's 68 landmarks."""
        from emocast.evaluation.identity import arcface_embedding, arcface_unavailable_reason
        from emocast.evaluation.landmarks import face_landmarks

        reason = arcface_unavailable_reason()

        def embed(rgb: np.ndarray) -> np.ndarray:
            if reason:
                raise EmocastError(f"the face embedding cannot be computed: {reason} (or store face_emb.npy per clip)")
            face = face_landmarks(rgb)
            if face is None:
                return np.zeros(512, np.float32)  # counts as a dropped reference
            return np.asarray(arcface_embedding(rgb, face.points), np.float32)

        return cls(embed, 512)

    @classmethod
    def tiny(cls, dim: int, seed: int = 0) -> "FaceEncoder":
        """A fixed random projection of the 16x16 grey face, unit length (tests only)."""
        import cv2

        projection = np.random.default_rng(seed).standard_normal((16 * 16, dim)).astype(np.float32) / 16.0

        def embed(rgb: np.ndarray) -> np.ndarray:
            grey = cv2.resize(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (16, 16), interpolation=cv2.INTER_AREA)
            vector = (grey.astype(np.float32).ravel() / 127.5 - 1.0) @ projection
            return vector / max(float(np.linalg.norm(vector)), 1e-6)

        return cls(embed, dim)

    def __call__(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) frames in [-1, 1] -> (B, D) float32 embeddings."""
        images = ((pixel_values.detach().float().cpu().movedim(1, -1) + 1.0) * 127.5).clamp(0, 255).byte().numpy()
        return torch.from_numpy(np.stack([self.embed(image) for image in images])).to(pixel_values.device)


def _tiny_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(**TINY_VAE)


def _real_vae(config: ModelConfig):
    from diffusers import AutoencoderKL

    path = model_path(config, config.vae)
    try:
        return AutoencoderKL.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as e:
        raise EmocastError(f"cannot load the VAE from {path}: {e}; download stabilityai/sd-vae-ft-mse there") from e


def _real_text(config: ModelConfig):
    from transformers import CLIPTextModel, CLIPTokenizer

    path = model_path(config, config.text_encoder)
    try:
        return (CLIPTextModel.from_pretrained(str(path), local_files_only=True),
                CLIPTokenizer.from_pretrained(str(path), local_files_only=True))  # fmt: skip
    except (OSError, ValueError) as e:
        raise EmocastError(f"cannot load CLIP text from {path}: {e}; download openai/clip-vit-large-patch14 there") from e


def _tiny_text(network_config):
    from transformers import CLIPTextConfig, CLIPTextModel

    tokenizer = tiny_tokenizer(max_length=network_config.text_tokens)
    text_config = CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=network_config.unet.cross_attention_dim, intermediate_size=37,
        num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=network_config.text_tokens,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    return CLIPTextModel(text_config), tokenizer


def tiny_tokenizer(max_length: int = 16):
    """A CLIPTokenizer over single bytes (no merges): CLIP's real tokenizer code with a tiny vocabulary."""
    from transformers import CLIPTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"]
    return CLIPTokenizer(vocab={token: i for i, token in enumerate(tokens)}, merges=[], model_max_length=max_length)


def init_unets_from_sd15(net: nn.Module, config: ModelConfig) -> None:
    """Initialise both UNets' matching tensors from SD1.5's UNet (real size, stage 1 start)."""
    unet_dir = model_path(config, config.base_unet)
    if unet_dir is None:
        return
    state = _read_weights(unet_dir, ("diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin"))
    for part in (net.reference_unet, net.denoising_unet):
        loaded = _load_matching(part, state)
        logger.info("%s: %d tensors from SD1.5 %s", type(part).__name__, loaded, unet_dir)


def init_motion_modules(net: nn.Module, config: ModelConfig) -> None:
    """Initialise the motion modules from AnimateDiff's mm_sd_v15_v2.ckpt (stage 2 phase 1 start)."""
    motion = model_path(config, config.motion_module)
    if motion is None:
        return
    state = _read_weights(motion, ())
    state = {k.removeprefix("module."): v for k, v in state.items() if "motion_modules" in k}
    loaded = _load_matching(net.denoising_unet, state)
    logger.info("motion modules: %d of %d tensors from %s", loaded, len(state), motion)


def _read_weights(path: Path, names: tuple[str, ...]) -> dict[str, torch.Tensor]:
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                path = path / name
                break
    if not path.is_file():
        raise EmocastError(f"pretrained weights {path} do not exist; see training/README (model.pretrained_dir)")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    return state.get("state_dict", state) if isinstance(state, dict) else state


def _load_matching(module: nn.Module, state: dict[str, torch.Tensor]) -> int:
    """Copy the tensors whose names and shapes match; return how many."""
    own = module.state_dict()
    matched = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    module.load_state_dict(matched, strict=False)
    return len(matched)
