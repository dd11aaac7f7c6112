"""Audio projection (EmoCAST Sec. 3.2, from Hallo): a wav2vec2 window per video frame -> audio tokens.

For every video frame the hidden states of all wav2vec2 layers in a window of ``seq_len`` frames
(t-2 .. t+2) are flattened and mapped by a 3-layer MLP to ``context_tokens`` tokens of ``output_dim``.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn
from torch.nn import functional as F


class AudioProjModel(ModelMixin, ConfigMixin):
    """(B, F, seq_len, blocks, channels) wav2vec2 windows -> (B, F, context_tokens, output_dim) tokens."""

    @register_to_config
    def __init__(
        self,
        seq_len: int = 5,
        blocks: int = 12,
        channels: int = 768,
        intermediate_dim: int = 512,
        output_dim: int = 768,
        context_tokens: int = 32,
    ) -> None:
        """Args:
        seq_len: wav2vec2 frames per window.
        blocks: wav2vec2 layers stacked.
        channels: wav2vec2 hidden width.
        intermediate_dim: MLP hidden width.
        output_dim: token width (the audio cross-attention width).
        context_tokens: tokens per video frame.
        """
        super().__init__()
        self.input_dim = seq_len * blocks * channels  # 5 * 12 * 768 = 46080 for the released model
        self.context_tokens = context_tokens
        self.output_dim = output_dim
        self.proj1 = nn.Linear(self.input_dim, intermediate_dim)
        self.proj2 = nn.Linear(intermediate_dim, intermediate_dim)
        self.proj3 = nn.Linear(intermediate_dim, context_tokens * output_dim)
        self.norm = nn.LayerNorm(output_dim)

    def forward(self, audio_embeds: torch.Tensor) -> torch.Tensor:
        b, f = audio_embeds.shape[:2]
        x = audio_embeds.reshape(b * f, self.input_dim).to(self.proj1.weight.dtype)  # (B*F, 5*12*768)
        x = F.relu(self.proj1(x))
        x = F.relu(self.proj2(x))
        tokens = self.proj3(x).reshape(b * f, self.context_tokens, self.output_dim)  # (B*F, 32, 768)
        return self.norm(tokens).reshape(b, f, self.context_tokens, self.output_dim)
