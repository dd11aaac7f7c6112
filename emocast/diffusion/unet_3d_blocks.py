"""Blocks of the denoising UNet3D (EmoCAST Sec. 3.2): SD1.5's blocks made temporal.

Every tensor between blocks is (B, C, F, H, W). Spatial layers (diffusers' ``ResnetBlock2D``,
``Transformer2DModel``, ``Downsample2D``, ``Upsample2D``; "inflated": frames folded into the batch,
GroupNorm per frame) keep SD1.5's parameter names; after each spatial attention come an emotive
audio module and a motion module, as in the released checkpoint:

    resnet -> spatial attention (reference + emotive text) -> emotive audio attention -> motion module
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers.models.resnet import Downsample2D, ResnetBlock2D, Upsample2D
from diffusers.models.transformers.transformer_2d import Transformer2DModel
from torch import nn

from emocast.diffusion.emotive_audio_attention import EmotiveAudioTransformer
from emocast.diffusion.motion_module import MotionModule
from emocast.diffusion.reference_net import ReferenceBank


@dataclass
class Conditions:
    """Everything the blocks read besides the features; built once per UNet call."""

    temb: torch.Tensor  # (B, T) time embedding
    encoder_hidden_states: torch.Tensor  # (B, 77 + 4, D) emotive text + face tokens
    audio_tokens: torch.Tensor  # (B, F, Na, Da) projected audio tokens per frame
    emotion_tokens: torch.Tensor  # (B, 77, D) emotion-prompt tokens (query of attn_audioemo)
    region_masks: torch.Tensor | None  # (B, 3, F|1, Hm, Wm) full / face / lip in 0..1
    region_weights: tuple[float, float, float]  # strengths of the full / face / lip branches
    bank: ReferenceBank | None  # reference features (attn1 reads them through its processor)
    motion_frames_blocks: str  # "mid" (released inference) or "all" (released training path)


@dataclass
class BlockSpec:
    """Sizes shared by all blocks of a UNet."""

    temb_channels: int
    heads: int  # spatial / audio attention heads (SD1.5 "attention_head_dim")
    cross_attention_dim: int
    audio_dim: int
    emotion_head_dim: int
    norm_num_groups: int
    norm_eps: float
    act_fn: str
    motion: dict  # MotionModule kwargs
    face_tokens: int
    emotive: bool = True  # False: Hallo's audio blocks (no attn_audioemo)


def fold(x: torch.Tensor) -> torch.Tensor:
    """(B, C, F, H, W) -> (B*F, C, H, W)."""
    b, c, f, h, w = x.shape
    return x.transpose(1, 2).reshape(b * f, c, h, w)


def unfold(x: torch.Tensor, b: int) -> torch.Tensor:
    """(B*F, C, H, W) -> (B, C, F, H, W)."""
    n, c, h, w = x.shape
    return x.reshape(b, n // b, c, h, w).transpose(1, 2)


def run_resnet(resnet: ResnetBlock2D, x: torch.Tensor, temb: torch.Tensor) -> torch.Tensor:
    b, f = x.shape[0], x.shape[2]
    return unfold(resnet(fold(x), temb.repeat_interleave(f, dim=0)), b)


def run_spatial_attention(attention: Transformer2DModel, x: torch.Tensor, cond: Conditions) -> torch.Tensor:
    b, f = x.shape[0], x.shape[2]
    context = cond.encoder_hidden_states.repeat_interleave(f, dim=0)  # (B*F, 81, D)
    return unfold(attention(fold(x), encoder_hidden_states=context, return_dict=False)[0], b)


def motion_frames_for(path: str, x: torch.Tensor, cond: Conditions, in_mid: bool) -> torch.Tensor | None:
    """ReferenceNet features of the motion frames at this attention, as (B, C, M, H, W), or None."""
    if cond.bank is None or (cond.motion_frames_blocks == "mid" and not in_mid):
        return None
    frames = cond.bank.motion.get(path)  # (B, M, H*W, C)
    if frames is None or frames.shape[1] == 0:
        return None
    b, m, _, c = frames.shape
    h, w = x.shape[-2:]
    return frames.reshape(b, m, h, w, c).permute(0, 4, 1, 2, 3)


def _spatial_transformer(channels: int, spec: BlockSpec) -> Transformer2DModel:
    return Transformer2DModel(
        num_attention_heads=spec.heads, attention_head_dim=channels // spec.heads, in_channels=channels,
        num_layers=1, cross_attention_dim=spec.cross_attention_dim, norm_num_groups=spec.norm_num_groups,
    )


def _audio_module(channels: int, inner: int, spec: BlockSpec) -> EmotiveAudioTransformer:
    return EmotiveAudioTransformer(channels, inner, spec.heads, spec.audio_dim, spec.cross_attention_dim,
                                   spec.emotion_head_dim, spec.norm_num_groups, emotive=spec.emotive)


def _resnet(in_channels: int, out_channels: int, spec: BlockSpec) -> ResnetBlock2D:
    return ResnetBlock2D(in_channels=in_channels, out_channels=out_channels, temb_channels=spec.temb_channels,
                         eps=spec.norm_eps, groups=spec.norm_num_groups, non_linearity=spec.act_fn)


def _motion(channels: int, spec: BlockSpec) -> MotionModule:
    return MotionModule(channels, norm_num_groups=spec.norm_num_groups, **spec.motion)


class CrossAttnDownBlock3D(nn.Module):
    """resnet -> attention -> audio -> motion, ``num_layers`` times, then a stride-2 conv."""

    has_cross_attention = True

    def __init__(self, in_channels: int, out_channels: int, num_layers: int, add_downsample: bool,
                 spec: BlockSpec, downsample_padding: int = 1) -> None:
        super().__init__()
        self.path = ""  # set by the UNet: "down_blocks.i"
        layer_inputs = [in_channels] + [out_channels] * (num_layers - 1)
        self.resnets = nn.ModuleList([_resnet(c, out_channels, spec) for c in layer_inputs])
        self.attentions = nn.ModuleList([_spatial_transformer(out_channels, spec) for _ in layer_inputs])
        self.audio_modules = nn.ModuleList([_audio_module(out_channels, c, spec) for c in layer_inputs])
        self.motion_modules = nn.ModuleList([_motion(out_channels, spec) for _ in layer_inputs])
        self.downsamplers = (
            nn.ModuleList([Downsample2D(out_channels, use_conv=True, out_channels=out_channels,
                                        padding=downsample_padding, name="op")])
            if add_downsample else None
        )

    def forward(self, x: torch.Tensor, cond: Conditions) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        states = ()
        layers = zip(self.resnets, self.attentions, self.audio_modules, self.motion_modules)
        for j, (resnet, attention, audio, motion) in enumerate(layers):
            x = run_resnet(resnet, x, cond.temb)
            x = run_spatial_attention(attention, x, cond)
            x = audio(x, cond.audio_tokens, cond.emotion_tokens, cond.region_masks, cond.region_weights)
            path = f"{self.path}.attentions.{j}.transformer_blocks.0.attn1"
            x = motion(x, motion_frames_for(path, x, cond, in_mid=False))
            states += (x,)
        if self.downsamplers is not None:
            x = unfold(self.downsamplers[0](fold(x)), x.shape[0])
            states += (x,)
        return x, states


class DownBlock3D(nn.Module):
    """resnet -> motion, ``num_layers`` times, then an optional stride-2 conv."""

    has_cross_attention = False

    def __init__(self, in_channels: int, out_channels: int, num_layers: int, add_downsample: bool,
                 spec: BlockSpec, downsample_padding: int = 1) -> None:
        super().__init__()
        self.path = ""
        layer_inputs = [in_channels] + [out_channels] * (num_layers - 1)
        self.resnets = nn.ModuleList([_resnet(c, out_channels, spec) for c in layer_inputs])
        self.motion_modules = nn.ModuleList([_motion(out_channels, spec) for _ in layer_inputs])
        self.downsamplers = (
            nn.ModuleList([Downsample2D(out_channels, use_conv=True, out_channels=out_channels,
                                        padding=downsample_padding, name="op")])
            if add_downsample else None
        )

    def forward(self, x: torch.Tensor, cond: Conditions) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        states = ()
        for resnet, motion in zip(self.resnets, self.motion_modules):
            x = motion(run_resnet(resnet, x, cond.temb))
            states += (x,)
        if self.downsamplers is not None:
            x = unfold(self.downsamplers[0](fold(x)), x.shape[0])
            states += (x,)
        return x, states


class UNetMidBlock3DCrossAttn(nn.Module):
    """resnet, then (attention -> audio -> motion with the motion frames -> resnet)."""

    def __init__(self, channels: int, spec: BlockSpec, num_layers: int = 1) -> None:
        super().__init__()
        self.path = "mid_block"
        self.resnets = nn.ModuleList([_resnet(channels, channels, spec) for _ in range(num_layers + 1)])
        self.attentions = nn.ModuleList([_spatial_transformer(channels, spec) for _ in range(num_layers)])
        self.audio_modules = nn.ModuleList([_audio_module(channels, channels, spec) for _ in range(num_layers)])
        self.motion_modules = nn.ModuleList([_motion(channels, spec) for _ in range(num_layers)])

    def forward(self, x: torch.Tensor, cond: Conditions) -> torch.Tensor:
        x = run_resnet(self.resnets[0], x, cond.temb)
        layers = zip(self.attentions, self.audio_modules, self.motion_modules, self.resnets[1:])
        for j, (attention, audio, motion, resnet) in enumerate(layers):
            x = run_spatial_attention(attention, x, cond)
            x = audio(x, cond.audio_tokens, cond.emotion_tokens, cond.region_masks, cond.region_weights)
            path = f"{self.path}.attentions.{j}.transformer_blocks.0.attn1"
            x = motion(x, motion_frames_for(path, x, cond, in_mid=True))
            x = run_resnet(resnet, x, cond.temb)
        return x


class CrossAttnUpBlock3D(nn.Module):
    """(skip concat -> resnet -> attention -> audio -> motion) x ``num_layers``, then a 2x upsample."""

    has_cross_attention = True

    def __init__(self, in_channels: int, prev_output_channel: int, out_channels: int, num_layers: int,
                 add_upsample: bool, spec: BlockSpec) -> None:
        super().__init__()
        self.path = ""
        resnets = []
        for i in range(num_layers):
            skip = in_channels if i == num_layers - 1 else out_channels
            resnet_in = prev_output_channel if i == 0 else out_channels
            resnets.append(_resnet(resnet_in + skip, out_channels, spec))
        self.resnets = nn.ModuleList(resnets)
        self.attentions = nn.ModuleList([_spatial_transformer(out_channels, spec) for _ in range(num_layers)])
        # released quirk: the audio modules' inner width is the block's (skip) input width
        self.audio_modules = nn.ModuleList([_audio_module(out_channels, in_channels, spec) for _ in range(num_layers)])
        self.motion_modules = nn.ModuleList([_motion(out_channels, spec) for _ in range(num_layers)])
        self.upsamplers = (
            nn.ModuleList([Upsample2D(out_channels, use_conv=True, out_channels=out_channels)]) if add_upsample else None
        )

    def forward(self, x: torch.Tensor, skips: tuple[torch.Tensor, ...], cond: Conditions,
                upsample_size: tuple[int, int] | None = None) -> torch.Tensor:
        layers = zip(self.resnets, self.attentions, self.audio_modules, self.motion_modules)
        for j, (resnet, attention, audio, motion) in enumerate(layers):
            x = torch.cat([x, skips[-1]], dim=1)
            skips = skips[:-1]
            x = run_resnet(resnet, x, cond.temb)
            x = run_spatial_attention(attention, x, cond)
            x = audio(x, cond.audio_tokens, cond.emotion_tokens, cond.region_masks, cond.region_weights)
            path = f"{self.path}.attentions.{j}.transformer_blocks.0.attn1"
            x = motion(x, motion_frames_for(path, x, cond, in_mid=False))
        if self.upsamplers is not None:
            x = unfold(self.upsamplers[0](fold(x), upsample_size), x.shape[0])
        return x


class UpBlock3D(nn.Module):
    """(skip concat -> resnet -> motion) x ``num_layers``, then a 2x upsample."""

    has_cross_attention = False

    def __init__(self, in_channels: int, prev_output_channel: int, out_channels: int, num_layers: int,
                 add_upsample: bool, spec: BlockSpec) -> None:
        super().__init__()
        self.path = ""
        resnets = []
        for i in range(num_layers):
            skip = in_channels if i == num_layers - 1 else out_channels
            resnet_in = prev_output_channel if i == 0 else out_channels
            resnets.append(_resnet(resnet_in + skip, out_channels, spec))
        self.resnets = nn.ModuleList(resnets)
        self.motion_modules = nn.ModuleList([_motion(out_channels, spec) for _ in range(num_layers)])
        self.upsamplers = (
            nn.ModuleList([Upsample2D(out_channels, use_conv=True, out_channels=out_channels)]) if add_upsample else None
        )

    def forward(self, x: torch.Tensor, skips: tuple[torch.Tensor, ...], cond: Conditions,
                upsample_size: tuple[int, int] | None = None) -> torch.Tensor:
        for resnet, motion in zip(self.resnets, self.motion_modules):
            x = torch.cat([x, skips[-1]], dim=1)
            skips = skips[:-1]
            x = motion(run_resnet(resnet, x, cond.temb))
        if self.upsamplers is not None:
            x = unfold(self.upsamplers[0](fold(x), upsample_size), x.shape[0])
        return x
