"""ReferenceNet and reference attention (EmoCAST Sec. 3.2, from Hallo / AnimateAnyone).

The ReferenceNet is SD1.5's 2D UNet (same names as diffusers' ``UNet2DConditionModel``) without
``conv_norm_out`` / ``conv_out``: only its internal features are used. It runs at timestep 0 on the
VAE latents of the portrait (once per video) and of the motion frames (the last frames of the
previous clip). Each spatial self-attention ``attn1`` records its input (the LayerNorm'ed hidden
states) in a ``ReferenceBank``.

The denoising UNet's ``attn1`` with a ``ReferenceReadProcessor`` then attends to
``cat([own tokens, portrait tokens])`` (the portrait features repeated for every frame), which keeps
identity and appearance. The motion-frame features are handed to the motion modules, which prepend
them on the time axis so a clip continues the previous one.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.embeddings import TimestepEmbedding, Timesteps
from diffusers.models.modeling_utils import ModelMixin
from diffusers.models.unets.unet_2d_blocks import UNetMidBlock2DCrossAttn, get_down_block, get_up_block
from torch import nn

from emocast.diffusion.attention_ops import multi_head_attention, output_projection


class ReferenceBank:
    """ReferenceNet self-attention inputs, keyed by the attention's module path.

    ``reference[path]``: (B, L, C) portrait tokens per guidance branch B.
    ``motion[path]``: (B, M, L, C) tokens of the M motion frames.
    ``use_reference``: (B,) bool; False rows (the unconditional branch) attend only to themselves.
    """

    def __init__(self) -> None:
        self.reference: dict[str, torch.Tensor] = {}
        self.motion: dict[str, torch.Tensor] = {}
        self.use_reference: torch.Tensor | None = None
        self._writing: dict[str, torch.Tensor] | None = None

    def clear(self) -> None:
        self.reference.clear()
        self.motion.clear()
        self.use_reference = None

    def start_writing(self) -> dict[str, torch.Tensor]:
        """Collect the next ReferenceNet forward's features into a fresh dict (returned)."""
        self._writing = {}
        return self._writing

    def stop_writing(self) -> None:
        self._writing = None

    def write(self, path: str, hidden_states: torch.Tensor) -> None:
        if self._writing is not None:
            self._writing[path] = hidden_states


class ReferenceWriteProcessor:
    """ReferenceNet ``attn1``: plain self-attention that also records its input in the bank."""

    def __init__(self, bank: ReferenceBank, path: str) -> None:
        self.bank = bank
        self.path = path

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None):
        self.bank.write(self.path, hidden_states)  # (N, L, C), already LayerNorm'ed by the block
        query, key, value = attn.to_q(hidden_states), attn.to_k(hidden_states), attn.to_v(hidden_states)
        return output_projection(attn, multi_head_attention(query, key, value, attn.heads))


class ReferenceReadProcessor:
    """Denoising-UNet ``attn1``: self-attention over own tokens + the portrait's tokens from the bank."""

    def __init__(self, bank: ReferenceBank, path: str) -> None:
        self.bank = bank
        self.path = path

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None):
        n, length, _ = hidden_states.shape  # (B*F, L, C)
        context, mask = hidden_states, None
        reference = self.bank.reference.get(self.path)
        if reference is not None:
            b = reference.shape[0]
            frames = n // b
            reference = reference.to(hidden_states.dtype).repeat_interleave(frames, dim=0)  # (B*F, L, C)
            context = torch.cat([hidden_states, reference], dim=1)  # (B*F, 2L, C)
            if self.bank.use_reference is not None and not bool(self.bank.use_reference.all()):
                use = self.bank.use_reference.to(hidden_states.device).repeat_interleave(frames)  # (B*F,)
                mask = torch.ones(n, 1, 1, context.shape[1], dtype=torch.bool, device=hidden_states.device)
                mask[:, 0, 0, length:] = use[:, None]
        query, key, value = attn.to_q(hidden_states), attn.to_k(context), attn.to_v(context)
        return output_projection(attn, multi_head_attention(query, key, value, attn.heads, mask))


def self_attention_paths(unet: nn.Module) -> list[str]:
    """Module paths of the spatial self-attentions (``...attentions.i.transformer_blocks.j.attn1``)."""
    return [name for name, _ in unet.named_modules() if name.endswith("attn1") and ".attentions." in name]


class ReferenceNet(ModelMixin, ConfigMixin):
    """SD1.5 2D UNet without the output head; fills a ReferenceBank with its self-attention inputs."""

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
        emotive: bool = True,
    ) -> None:
        """Args: the SD1.5 UNet config (see ``config.UNetConfig``); ``attention_head_dim`` is the
        number of heads (SD1.5 naming); ``face_tokens`` is the face-token count of the emotive text
        attention; ``emotive=False`` builds Hallo's plain cross-attention (face tokens only).
        ``out_channels`` is kept for config compatibility (there is no output head)."""
        super().__init__()
        heads = attention_head_dim
        time_dim = block_out_channels[0] * 4  # 1280
        self.conv_in = nn.Conv2d(in_channels, block_out_channels[0], kernel_size=3, padding=1)
        self.time_proj = Timesteps(block_out_channels[0], flip_sin_to_cos, freq_shift)
        self.time_embedding = TimestepEmbedding(block_out_channels[0], time_dim, act_fn=act_fn)

        self.down_blocks = nn.ModuleList()
        output_channel = block_out_channels[0]
        for i, block_type in enumerate(down_block_types):
            input_channel, output_channel = output_channel, block_out_channels[i]
            self.down_blocks.append(
                get_down_block(
                    block_type, num_layers=layers_per_block, in_channels=input_channel,
                    out_channels=output_channel, temb_channels=time_dim,
                    add_downsample=i < len(block_out_channels) - 1, resnet_eps=norm_eps, resnet_act_fn=act_fn,
                    resnet_groups=norm_num_groups, cross_attention_dim=cross_attention_dim,
                    num_attention_heads=heads, downsample_padding=downsample_padding,
                    attention_head_dim=output_channel // heads,
                )
            )
        self.mid_block = UNetMidBlock2DCrossAttn(
            in_channels=block_out_channels[-1], temb_channels=time_dim, resnet_eps=norm_eps,
            resnet_act_fn=act_fn, output_scale_factor=1, cross_attention_dim=cross_attention_dim,
            num_attention_heads=heads, resnet_groups=norm_num_groups,
        )
        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(block_out_channels))
        output_channel = reversed_channels[0]
        for i, block_type in enumerate(up_block_types):
            prev_output_channel, output_channel = output_channel, reversed_channels[i]
            input_channel = reversed_channels[min(i + 1, len(block_out_channels) - 1)]
            self.up_blocks.append(
                get_up_block(
                    block_type, num_layers=layers_per_block + 1, in_channels=input_channel,
                    out_channels=output_channel, prev_output_channel=prev_output_channel, temb_channels=time_dim,
                    add_upsample=i < len(block_out_channels) - 1, resnet_eps=norm_eps, resnet_act_fn=act_fn,
                    resolution_idx=i, resnet_groups=norm_num_groups, cross_attention_dim=cross_attention_dim,
                    num_attention_heads=heads, attention_head_dim=output_channel // heads,
                )
            )
        if emotive:
            from emocast.diffusion.emotive_text_attention import install_emotive_text_processors

            install_emotive_text_processors(self, cross_attention_dim, face_tokens)

    def attach_bank(self, bank: ReferenceBank) -> None:
        """Make every spatial self-attention record its input into ``bank``."""
        modules = dict(self.named_modules())
        for path in self_attention_paths(self):
            modules[path].set_processor(ReferenceWriteProcessor(bank, path))

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor | int, encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        """Run the UNet body (the bank is filled as a side effect).

        Args:
            sample: (N, 4, h, w) latents of the portrait / motion frames.
            timestep: diffusion timestep (0 for reference features), scalar or (N,).
            encoder_hidden_states: (N, 77 + 4, D) text + face tokens (Hallo: (N, 4, D) face tokens).

        Returns:
            (N, C0, h, w) features of the last up block (no output head).
        """
        timesteps = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(sample.shape[0])
        emb = self.time_embedding(self.time_proj(timesteps).to(sample.dtype))  # (N, 1280)
        sample = self.conv_in(sample)
        residuals = (sample,)
        for block in self.down_blocks:
            if getattr(block, "has_cross_attention", False):
                sample, res = block(hidden_states=sample, temb=emb, encoder_hidden_states=encoder_hidden_states)
            else:
                sample, res = block(hidden_states=sample, temb=emb)
            residuals += res
        sample = self.mid_block(sample, emb, encoder_hidden_states=encoder_hidden_states)
        for i, block in enumerate(self.up_blocks):
            res, residuals = residuals[-len(block.resnets) :], residuals[: -len(block.resnets)]
            upsample_size = residuals[-1].shape[2:] if i < len(self.up_blocks) - 1 else None
            if getattr(block, "has_cross_attention", False):
                sample = block(hidden_states=sample, temb=emb, res_hidden_states_tuple=res,
                               encoder_hidden_states=encoder_hidden_states, upsample_size=upsample_size)
            else:
                sample = block(hidden_states=sample, temb=emb, res_hidden_states_tuple=res, upsample_size=upsample_size)
        return sample
