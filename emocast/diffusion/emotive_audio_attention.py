"""Emotive audio attention (EmoCAST Sec. 3.2, eqs. 3-6): emotion-aware audio features drive three regions.

Inside each "audio module" of the denoising UNet (after the spatial attention of a block):

1. self-attention over the frame's tokens (``attn1``),
2. eq. 3-4: the CLIP tokens of the emotion prompt query the frame's audio tokens
   (``attn_audioemo``: query = text, key/value = audio) and are LayerNorm'ed
   (``postnorm_audioemo``): emotion-aware audio features, (B*F, 77, D),
3. eq. 5: three cross-attentions from the visual tokens to those features, each masked by a region
   of the face: ``attn2_0`` full head / pose, ``attn2_1`` face / expression, ``attn2_2`` lips,
4. eq. 6: each masked result passes a 1x1 convolution that starts at zero (``zero_conv_full``,
   ``zero_conv_face``, ``zero_conv_lip``) and the three are summed onto the hidden states,
5. a GEGLU feed-forward.

Width quirk of the released checkpoint (kept so it loads): the module is wrapped in a
GroupNorm/1x1-conv projection whose inner width is the *input* width of the UNet block it sits in,
e.g. ``down_blocks.1.audio_modules.0.proj_in`` is 640 -> 320.

These are modules rather than attention processors because their parameters live directly in the
block (``transformer_blocks.0.attn2_0``), as in the released checkpoint.
"""

from __future__ import annotations

import torch
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from torch import nn
from torch.nn import functional as F

REGIONS = ("full", "face", "lip")  # order of the region masks: pose (whole head), expression, lips


class EmotiveAudioBlock(nn.Module):
    """The transformer block of an audio module, working on (B*F, H*W, dim) tokens."""

    def __init__(self, dim: int, heads: int, audio_dim: int, text_dim: int, emotion_head_dim: int,
                 emotive: bool = True) -> None:
        """Args:
        dim: inner token width.
        heads: attention heads (head width dim // heads).
        audio_dim: width of the audio tokens (cross-attention width of attn2_*).
        text_dim: width of the emotion-prompt tokens.
        emotion_head_dim: head width of attn_audioemo (heads x it = its inner width).
        emotive: False = Hallo's block: the masked cross-attentions read the audio tokens directly.
        """
        super().__init__()
        head_dim = dim // heads
        self.zero_conv_full = nn.Conv2d(dim, dim, kernel_size=1)
        self.zero_conv_face = nn.Conv2d(dim, dim, kernel_size=1)
        self.zero_conv_lip = nn.Conv2d(dim, dim, kernel_size=1)
        for conv in (self.zero_conv_full, self.zero_conv_face, self.zero_conv_lip):
            nn.init.zeros_(conv.weight)
            nn.init.zeros_(conv.bias)
        self.attn1 = Attention(query_dim=dim, heads=heads, dim_head=head_dim)
        self.norm1 = nn.LayerNorm(dim)
        self.emotive = emotive
        if emotive:
            self.attn_audioemo = Attention(
                query_dim=text_dim, cross_attention_dim=audio_dim, heads=heads, dim_head=emotion_head_dim,
                out_dim=audio_dim if audio_dim != text_dim else None,
            )
            self.postnorm_audioemo = nn.LayerNorm(audio_dim)
        self.attn2_0 = Attention(query_dim=dim, cross_attention_dim=audio_dim, heads=heads, dim_head=head_dim)
        self.attn2_1 = Attention(query_dim=dim, cross_attention_dim=audio_dim, heads=heads, dim_head=head_dim)
        self.attn2_2 = Attention(query_dim=dim, cross_attention_dim=audio_dim, heads=heads, dim_head=head_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, dropout=0.0, activation_fn="geglu")
        self.norm3 = nn.LayerNorm(dim)

    def emotion_aware_audio(self, emotion_tokens: torch.Tensor, audio_tokens: torch.Tensor) -> torch.Tensor:
        """Eqs. 3-4: (N, 77, Dt) text queries x (N, Na, Da) audio -> (N, 77, Da) emotion-aware audio."""
        if not self.emotive:
            return audio_tokens
        return self.postnorm_audioemo(self.attn_audioemo(emotion_tokens, encoder_hidden_states=audio_tokens))

    def forward(
        self,
        hidden_states: torch.Tensor,
        size: tuple[int, int],
        audio_tokens: torch.Tensor,
        emotion_tokens: torch.Tensor,
        region_masks: torch.Tensor,
        region_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> torch.Tensor:
        """Args:
        hidden_states: (N, H*W, dim) visual tokens, N = B*F.
        size: (H, W) of the token grid.
        audio_tokens: (N, Na, Da) audio tokens of each frame.
        emotion_tokens: (N, 77, Dt) emotion-prompt tokens (the same for every frame of a video).
        region_masks: (N, 3, H*W) full / face / lip weights in 0..1.
        region_weights: global strength of the full / face / lip branches.
        """
        h, w = size
        hidden_states = self.attn1(self.norm1(hidden_states)) + hidden_states
        features = self.emotion_aware_audio(emotion_tokens, audio_tokens)  # (N, 77, Da)
        norm_hidden_states = self.norm2(hidden_states)
        n, _, c = norm_hidden_states.shape
        branches = zip((self.attn2_0, self.attn2_1, self.attn2_2),
                       (self.zero_conv_full, self.zero_conv_face, self.zero_conv_lip))
        for k, (attention, conv) in enumerate(branches):
            region = attention(norm_hidden_states, encoder_hidden_states=features) * region_masks[:, k, :, None]
            region = region.transpose(1, 2).reshape(n, c, h, w)  # (N, dim, H, W)
            region = conv(region).reshape(n, c, h * w).transpose(1, 2)  # (N, H*W, dim)
            hidden_states = hidden_states + region_weights[k] * region
        return self.ff(self.norm3(hidden_states)) + hidden_states


class EmotiveAudioTransformer(nn.Module):
    """An audio module: GroupNorm -> 1x1 conv in -> EmotiveAudioBlock -> 1x1 conv out, plus residual."""

    def __init__(self, in_channels: int, inner_channels: int, heads: int, audio_dim: int, text_dim: int,
                 emotion_head_dim: int, norm_num_groups: int, emotive: bool = True) -> None:
        """Args:
        in_channels: width of the UNet features it reads and writes.
        inner_channels: token width inside (the released model uses the block's input width).
        heads, audio_dim, text_dim, emotion_head_dim: see EmotiveAudioBlock.
        norm_num_groups: GroupNorm groups.
        emotive: False = Hallo's audio module (no emotion-aware audio features).
        """
        super().__init__()
        self.norm = nn.GroupNorm(norm_num_groups, in_channels, eps=1e-6, affine=True)
        self.proj_in = nn.Conv2d(in_channels, inner_channels, kernel_size=1)
        self.transformer_blocks = nn.ModuleList(
            [EmotiveAudioBlock(inner_channels, heads, audio_dim, text_dim, emotion_head_dim, emotive)]
        )
        self.proj_out = nn.Conv2d(inner_channels, in_channels, kernel_size=1)

    def forward(
        self,
        hidden_states: torch.Tensor,
        audio_tokens: torch.Tensor,
        emotion_tokens: torch.Tensor,
        region_masks: torch.Tensor | None = None,
        region_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
    ) -> torch.Tensor:
        """Args:
        hidden_states: (B, C, F, H, W) UNet features.
        audio_tokens: (B, F, Na, Da) projected audio tokens per frame.
        emotion_tokens: (B, 77, Dt) CLIP last hidden state of the emotion prompt.
        region_masks: (B, 3, F or 1, Hm, Wm) full / face / lip masks in 0..1 at any resolution
            (resized here to H x W by area averaging); None = every region everywhere.
        region_weights: strengths of the full / face / lip branches.

        Returns:
            (B, C, F, H, W)
        """
        b, c, f, h, w = hidden_states.shape
        residual = hidden_states
        x = hidden_states.transpose(1, 2).reshape(b * f, c, h, w)  # (B*F, C, H, W)
        x = self.proj_in(self.norm(x))
        inner = x.shape[1]
        x = x.permute(0, 2, 3, 1).reshape(b * f, h * w, inner)  # (B*F, HW, inner)
        audio = audio_tokens.reshape(b * f, *audio_tokens.shape[2:]).to(x.dtype)  # (B*F, Na, Da)
        emotion = None if emotion_tokens is None else emotion_tokens.to(x.dtype).repeat_interleave(f, dim=0)
        masks = _masks_at(region_masks, b, f, h, w, x)  # (B*F, 3, HW)
        for block in self.transformer_blocks:
            x = block(x, (h, w), audio, emotion, masks, region_weights)
        x = self.proj_out(x.reshape(b * f, h, w, inner).permute(0, 3, 1, 2))  # (B*F, C, H, W)
        return x.reshape(b, f, c, h, w).transpose(1, 2) + residual


def _masks_at(region_masks: torch.Tensor | None, b: int, f: int, h: int, w: int, like: torch.Tensor) -> torch.Tensor:
    """(B, 3, F|1, Hm, Wm) masks -> (B*F, 3, h*w) at the token grid's resolution."""
    if region_masks is None:
        return torch.ones(b * f, 3, h * w, device=like.device, dtype=like.dtype)
    masks = region_masks.to(device=like.device, dtype=like.dtype)
    if masks.shape[0] == 1 and b > 1:
        masks = masks.expand(b, -1, -1, -1, -1)  # the same masks for every guidance branch
    if masks.shape[2] == 1:
        masks = masks.expand(-1, -1, f, -1, -1)
    masks = masks.transpose(1, 2).reshape(b * f, 3, *masks.shape[-2:])  # (B*F, 3, Hm, Wm)
    if masks.shape[-2:] != (h, w):
        masks = F.interpolate(masks, size=(h, w), mode="area")
    return masks.reshape(b * f, 3, h * w)
