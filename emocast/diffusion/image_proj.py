"""Face-embedding projection (EmoCAST Sec. 3.2, eq. 2's identity branch): ArcFace vector -> face tokens.

The 512-d identity embedding of the portrait becomes ``clip_extra_context_tokens`` tokens of the
cross-attention width. They are appended after the 77 emotive-text tokens and read by the
``to_k_ip`` / ``to_v_ip`` projections of the emotive text attention processor.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn


class ImageProjModel(ModelMixin, ConfigMixin):
    """(B, E) face embedding -> (B, T, D) face tokens (T = clip_extra_context_tokens)."""

    @register_to_config
    def __init__(self, cross_attention_dim: int = 768, clip_embeddings_dim: int = 512, clip_extra_context_tokens: int = 4):
        """Args:
        cross_attention_dim: token width D (the UNets' cross-attention width).
        clip_embeddings_dim: input embedding width E (512 for ArcFace).
        clip_extra_context_tokens: number of tokens T.
        """
        super().__init__()
        self.cross_attention_dim = cross_attention_dim
        self.clip_extra_context_tokens = clip_extra_context_tokens
        self.proj = nn.Linear(clip_embeddings_dim, clip_extra_context_tokens * cross_attention_dim)
        self.norm = nn.LayerNorm(cross_attention_dim)

    def forward(self, image_embeds: torch.Tensor) -> torch.Tensor:
        tokens = self.proj(image_embeds.to(self.proj.weight.dtype))
        tokens = tokens.reshape(-1, self.clip_extra_context_tokens, self.cross_attention_dim)  # (B, T, D)
        return self.norm(tokens)
