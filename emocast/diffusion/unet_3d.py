"""Denoising UNet3D (EmoCAST Sec. 3.2): SD1.5's UNet made temporal and conditioned on emotion and audio.

Inputs per clip: noisy latents (B, 4, F, h, w); text + face tokens for the emotive text attention;
audio tokens and emotion-prompt tokens for the emotive audio attention; region masks; face-locator
features added after ``conv_in``; and, through a ReferenceBank, the portrait's ReferenceNet features
(read by every spatial self-attention) and the motion frames' features (read by the motion modules).
Output: the model prediction (v for the released zero-SNR v-prediction schedule), (B, 4, F, h, w).
"""

from __future__ import annotations

from dataclasses import asdict

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from emocast.diffusion.config import MotionModuleConfig
from emocast.diffusion.reference_net import ReferenceBank, ReferenceReadProcessor, self_attention_paths
from emocast.diffusion.unet_3d_blocks import (
    BlockSpec,
    Conditions,
    CrossAttnDownBlock3D,
    CrossAttnUpBlock3D,
    DownBlock3D,
    UNetMidBlock3DCrossAttn,
    UpBlock3D,
    fold,
    unfold,
)


class UNet3DConditionModel(ModelMixin, ConfigMixin):
    """The denoising network. Block types use the 2D names of the SD1.5 config (made 3D here)."""

    _supports_gradient_checkpointing = False

    @register_to_config
    def __init__(
        self,
        block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280),
        down_block_types: tuple[str, ...] = ("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types: tuple[str, ...] = ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        layers_per_block: int = 2,
        attention_head_dim: int = 8,
        cross_attention_dim: int = 768,
        norm_num_groups: int = 32,
        norm_eps: float = 1e-5,
        in_channels: int = 4,
        out_channels: int = 4,
        sample_size: int = 64,
        flip_sin_to_cos: bool = True,
        freq_shift: int = 0,
        downsample_padding: int = 1,
        act_fn: str = "silu",
        face_tokens: int = 4,
        audio_attention_dim: int = 768,
        audio_emotion_head_dim: int = 80,
        motion_module_kwargs: dict | None = None,
        emotive: bool = True,
    ) -> None:
        """Args: the SD1.5 UNet config (``config.UNetConfig``; ``attention_head_dim`` = heads), plus
        face_tokens: face tokens after the text tokens; audio_attention_dim: audio-token width;
        audio_emotion_head_dim: head width of attn_audioemo; motion_module_kwargs: MotionModuleConfig fields;
        emotive: False builds Hallo's network (no emotive text / audio attention).
        """
        super().__init__()
        motion = motion_module_kwargs or asdict(MotionModuleConfig())
        motion = {k: tuple(v) if isinstance(v, list) else v for k, v in motion.items()}
        time_dim = block_out_channels[0] * 4
        spec = BlockSpec(
            temb_channels=time_dim, heads=attention_head_dim, cross_attention_dim=cross_attention_dim,
            audio_dim=audio_attention_dim, emotion_head_dim=audio_emotion_head_dim,
            norm_num_groups=norm_num_groups, norm_eps=norm_eps, act_fn=act_fn, motion=motion, face_tokens=face_tokens, emotive=emotive,
        )
        self.motion_frames_blocks = "mid"  # where motion frames join the motion modules (see Conditions)
        self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(block_out_channels[0], flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_dim, act_fn=act_fn)

        self.down_blocks = nn.ModuleList()
        output_channel = block_out_channels[0]
        for i, block_type in enumerate(down_block_types):
            input_channel, output_channel = output_channel, block_out_channels[i]
            cls = CrossAttnDownBlock3D if block_type.startswith("CrossAttn") else DownBlock3D
            block = cls(input_channel, output_channel, layers_per_block, i < len(block_out_channels) - 1, spec,
                        downsample_padding)
            block.path = f"down_blocks.{i}"
            self.down_blocks.append(block)
        self.mid_block = UNetMidBlock3DCrossAttn(block_out_channels[-1], spec)
        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(block_out_channels))
        output_channel = reversed_channels[0]
        for i, block_type in enumerate(up_block_types):
            prev_output_channel, output_channel = output_channel, reversed_channels[i]
            input_channel = reversed_channels[min(i + 1, len(block_out_channels) - 1)]
            cls = CrossAttnUpBlock3D if block_type.startswith("CrossAttn") else UpBlock3D
            block = cls(input_channel, prev_output_channel, output_channel, layers_per_block + 1,
                        i < len(block_out_channels) - 1, spec)
            block.path = f"up_blocks.{i}"
            self.up_blocks.append(block)
        self.conv_norm_out = nn.GroupNorm(norm_num_groups, block_out_channels[0], eps=norm_eps)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(block_out_channels[0], out_channels, kernel_size=3, padding=1)

        if emotive:
            from emocast.diffusion.emotive_text_attention import install_emotive_text_processors

            install_emotive_text_processors(self, cross_attention_dim, face_tokens)

    def attach_bank(self, bank: ReferenceBank) -> None:
        """Let every spatial self-attention also attend to the portrait features in ``bank``."""
        modules = dict(self.named_modules())
        for path in self_attention_paths(self):
            modules[path].set_processor(ReferenceReadProcessor(bank, path))

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor | int,
        encoder_hidden_states: torch.Tensor,
        audio_tokens: torch.Tensor,
        emotion_tokens: torch.Tensor,
        face_locator_features: torch.Tensor | None = None,
        region_masks: torch.Tensor | None = None,
        region_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        bank: ReferenceBank | None = None,
    ) -> torch.Tensor:
        """Predict the denoising target for a clip.

        Args:
            sample: (B, 4, F, h, w) noisy latents.
            timestep: scalar or (B,) diffusion timestep.
            encoder_hidden_states: (B, 77 + 4, D) emotive text tokens followed by face tokens
                (Hallo network: (B, 4, D) face tokens).
            audio_tokens: (B, F, Na, Da) AudioProjModel output.
            emotion_tokens: (B, 77, D) CLIP tokens of the emotion prompt (attn_audioemo queries);
                ignored by the Hallo network.
            face_locator_features: (B, C0, F or 1, h, w) FaceLocator output, added after conv_in.
            region_masks: (B, 3, F or 1, H, W) full / face / lip masks in 0..1 (any resolution).
            region_weights: strengths of the full / face / lip audio branches.
            bank: the ReferenceBank attached with ``attach_bank`` (its motion-frame features feed
                the motion modules); None = no motion frames.

        Returns:
            (B, 4, F, h, w) prediction.
        """
        b = sample.shape[0]
        timesteps = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(b)
        temb = self.time_embedding(self.time_proj(timesteps).to(sample.dtype))  # (B, 1280)
        cond = Conditions(temb, encoder_hidden_states, audio_tokens, emotion_tokens, region_masks,
                          tuple(region_weights), bank, self.motion_frames_blocks)

        x = unfold(self.conv_in(fold(sample)), b)  # (B, C0, F, h, w)
        if face_locator_features is not None:
            x = x + face_locator_features.to(x.dtype)
        skips = (x,)
        for block in self.down_blocks:
            x, states = block(x, cond)
            skips += states
        x = self.mid_block(x, cond)
        for i, block in enumerate(self.up_blocks):
            n = len(block.resnets)
            block_skips, skips = skips[-n:], skips[:-n]
            upsample_size = skips[-1].shape[-2:] if i < len(self.up_blocks) - 1 else None
            x = block(x, block_skips, cond, upsample_size)
        x = self.conv_out(self.conv_act(self.conv_norm_out(fold(x))))
        return unfold(x, b)
