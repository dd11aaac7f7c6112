"""Motion module (EmoCAST Sec. 3.2, AnimateDiff "Vanilla" temporal module): frame-wise attention.

Each spatial position attends over the frames of the clip (plus the prepended motion frames of the
previous clip) with sinusoidal frame positions, so consecutive frames move smoothly. ``proj_out``
starts at zero: a fresh module is the identity. Names follow AnimateDiff / Hallo:
``temporal_transformer.transformer_blocks.0.attention_blocks.{0,1}.pos_encoder.pe``.
"""

from __future__ import annotations

import math

import torch
from diffusers.models.attention import FeedForward
from torch import nn

from emocast.diffusion.attention_ops import multi_head_attention


class PositionalEncoding(nn.Module):
    """Sinusoidal frame positions, a persistent (1, max_len, C) buffer as in the checkpoint."""

    def __init__(self, d_model: int, max_len: int = 32) -> None:
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)  # (max_len, 1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] > self.pe.shape[1]:
            raise ValueError(f"{x.shape[1]} frames exceed the motion module's {self.pe.shape[1]} positions")
        return x + self.pe[:, : x.shape[1]].to(x.dtype)


class TemporalSelfAttention(nn.Module):
    """Self-attention over frames: (B*F, L, C) tokens -> attend along F for each of the L positions."""

    def __init__(self, dim: int, heads: int, max_len: int) -> None:
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(dim, dim, bias=False)
        self.to_v = nn.Linear(dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim), nn.Dropout(0.0)])
        self.pos_encoder = PositionalEncoding(dim, max_len=max_len)

    def forward(self, hidden_states: torch.Tensor, frames: int) -> torch.Tensor:
        n, length, c = hidden_states.shape
        x = hidden_states.view(n // frames, frames, length, c).transpose(1, 2).reshape(-1, frames, c)  # (B*L, F, C)
        x = self.pos_encoder(x)
        x = multi_head_attention(self.to_q(x), self.to_k(x), self.to_v(x), self.heads)
        x = self.to_out[1](self.to_out[0](x))
        return x.view(n // frames, length, frames, c).transpose(1, 2).reshape(n, length, c)  # (B*F, L, C)


class TemporalTransformerBlock(nn.Module):
    """Two temporal self-attentions (each pre-LayerNorm, residual) and a GEGLU feed-forward."""

    def __init__(self, dim: int, heads: int, num_attention_blocks: int, max_len: int) -> None:
        super().__init__()
        self.attention_blocks = nn.ModuleList(
            [TemporalSelfAttention(dim, heads, max_len) for _ in range(num_attention_blocks)]
        )
        self.norms = nn.ModuleList([nn.LayerNorm(dim) for _ in range(num_attention_blocks)])
        self.ff = FeedForward(dim, dropout=0.0, activation_fn="geglu")
        self.ff_norm = nn.LayerNorm(dim)

    def forward(self, hidden_states: torch.Tensor, frames: int) -> torch.Tensor:
        for attention, norm in zip(self.attention_blocks, self.norms):
            hidden_states = attention(norm(hidden_states), frames) + hidden_states
        return self.ff(self.ff_norm(hidden_states)) + hidden_states


class TemporalTransformer3DModel(nn.Module):
    """GroupNorm -> linear in -> temporal blocks -> linear out (zero-initialised) + residual."""

    def __init__(self, in_channels: int, heads: int, num_layers: int, num_attention_blocks: int,
                 norm_num_groups: int, max_len: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(norm_num_groups, in_channels, eps=1e-6, affine=True)
        self.proj_in = nn.Linear(in_channels, in_channels)
        self.transformer_blocks = nn.ModuleList(
            [TemporalTransformerBlock(in_channels, heads, num_attention_blocks, max_len) for _ in range(num_layers)]
        )
        self.proj_out = nn.Linear(in_channels, in_channels)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        b, c, f, h, w = hidden_states.shape
        residual = hidden_states
        x = self.norm(hidden_states.transpose(1, 2).reshape(b * f, c, h, w))  # (B*F, C, H, W)
        x = self.proj_in(x.permute(0, 2, 3, 1).reshape(b * f, h * w, c))  # (B*F, HW, C)
        for block in self.transformer_blocks:
            x = block(x, f)
        x = self.proj_out(x).reshape(b, f, h, w, c).permute(0, 4, 1, 2, 3)  # (B, C, F, H, W)
        return x + residual


class MotionModule(nn.Module):
    """AnimateDiff VanillaTemporalModule: (B, C, F, H, W) -> (B, C, F, H, W)."""

    def __init__(
        self,
        in_channels: int,
        num_attention_heads: int = 8,
        num_transformer_block: int = 1,
        attention_block_types: tuple[str, ...] = ("Temporal_Self", "Temporal_Self"),
        temporal_position_encoding_max_len: int = 32,
        norm_num_groups: int = 32,
    ) -> None:
        """Args:
        in_channels: feature width C.
        num_attention_heads: heads of each temporal attention.
        num_transformer_block: temporal transformer blocks.
        attention_block_types: one temporal self-attention per entry.
        temporal_position_encoding_max_len: most frames (clip + motion frames) it can take.
        norm_num_groups: GroupNorm groups.
        """
        super().__init__()
        self.temporal_transformer = TemporalTransformer3DModel(
            in_channels, num_attention_heads, num_transformer_block, len(attention_block_types),
            norm_num_groups, temporal_position_encoding_max_len,
        )

    def forward(self, hidden_states: torch.Tensor, motion_frames: torch.Tensor | None = None) -> torch.Tensor:
        """Args:
        hidden_states: (B, C, F, H, W) clip features.
        motion_frames: optional (B, C, M, H, W) features of the previous clip's last frames, prepended
            on the time axis for the attention and dropped from the output.
        """
        if motion_frames is None or motion_frames.shape[2] == 0:
            return self.temporal_transformer(hidden_states)
        m = motion_frames.shape[2]
        x = torch.cat([motion_frames.to(hidden_states.dtype), hidden_states], dim=2)  # (B, C, M+F, H, W)
        return self.temporal_transformer(x)[:, :, m:]
