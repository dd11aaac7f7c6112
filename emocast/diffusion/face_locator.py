"""Face locator (EmoCAST Sec. 3.2, from Hallo): a face-region mask -> features added after conv_in.

A small conv net turns the face-region mask image (the expanded face box, 0..1) into a feature map of
the denoising UNet's first width at latent resolution; the denoising UNet adds it to ``conv_in``'s
output, which tells it where the face must stay. ``conv_out`` starts at zero so an untrained locator
changes nothing.
"""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn
from torch.nn import functional as F


class FaceLocator(ModelMixin, ConfigMixin):
    """Mask image (B, 3, F, H, W) in 0..1 -> features (B, C, F, H/2^k, W/2^k), k = len(block_out_channels) - 1."""

    @register_to_config
    def __init__(
        self,
        conditioning_embedding_channels: int = 320,
        conditioning_channels: int = 3,
        block_out_channels: tuple[int, ...] = (16, 32, 64, 128),
    ) -> None:
        """Args:
        conditioning_embedding_channels: output width (the denoising UNet's first block width).
        conditioning_channels: input image channels.
        block_out_channels: conv widths; each step after the first halves the resolution.
        """
        super().__init__()
        self.conv_in = nn.Conv2d(conditioning_channels, block_out_channels[0], kernel_size=3, padding=1)
        blocks = []
        for channel_in, channel_out in zip(block_out_channels[:-1], block_out_channels[1:]):
            blocks.append(nn.Conv2d(channel_in, channel_in, kernel_size=3, padding=1))
            blocks.append(nn.Conv2d(channel_in, channel_out, kernel_size=3, padding=1, stride=2))
        self.blocks = nn.ModuleList(blocks)
        self.conv_out = nn.Conv2d(block_out_channels[-1], conditioning_embedding_channels, kernel_size=3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, conditioning: torch.Tensor) -> torch.Tensor:
        """(B, 3, F, H, W) or (B, 3, H, W) mask -> (B, C, F, h, w) or (B, C, h, w) features."""
        video = conditioning.ndim == 5
        if video:
            b, _, f, _, _ = conditioning.shape
            conditioning = conditioning.transpose(1, 2).flatten(0, 1)  # (B*F, 3, H, W)
        embedding = F.silu(self.conv_in(conditioning))
        for block in self.blocks:
            embedding = F.silu(block(embedding))
        embedding = self.conv_out(embedding)
        if video:
            embedding = embedding.unflatten(0, (b, f)).transpose(1, 2)  # (B, C, F, h, w)
        return embedding
