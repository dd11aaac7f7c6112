"""Network sizes of EmoCAST (arXiv 2508.20615, Sec. 3.2): the released real size and a tiny test size.

The real size reproduces the constructor section of the released checkpoint manifest
(``shared/reference/emocast_net_manifest.json``): SD1.5's UNet config for both UNets, AnimateDiff
motion modules (8 heads, max 32 frames), audio modules with 768-d audio tokens, a 320-channel face
locator, 4 face tokens from a 512-d face embedding and 32 audio tokens from 5 x 12 x 768 wav2vec2
features. ``tiny_config()`` keeps the same topology with a few channels so the whole pipeline runs on
a CPU in seconds (tests, examples).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class UNetConfig:
    """The SD1.5 UNet layout shared by the ReferenceNet (2D) and the denoising UNet (3D)."""

    block_out_channels: tuple[int, ...] = (320, 640, 1280, 1280)  # channels per resolution level
    down_block_types: tuple[str, ...] = (
        "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D",
    )
    up_block_types: tuple[str, ...] = ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")
    layers_per_block: int = 2  # resnets per down block (up blocks have one more)
    attention_head_dim: int = 8  # SD1.5 naming quirk: this is the number of heads; head width = C // 8
    cross_attention_dim: int = 768  # CLIP ViT-L/14 text width = face-token width
    norm_num_groups: int = 32
    norm_eps: float = 1e-5
    in_channels: int = 4  # VAE latent channels
    out_channels: int = 4
    sample_size: int = 64  # latent side at 512 px
    flip_sin_to_cos: bool = True
    freq_shift: int = 0
    downsample_padding: int = 1
    act_fn: str = "silu"

    def diffusers_kwargs(self) -> dict:
        """Keyword arguments for diffusers' ``UNet2DConditionModel`` (the ReferenceNet)."""
        d = asdict(self)
        d["block_out_channels"] = list(self.block_out_channels)
        d["down_block_types"] = list(self.down_block_types)
        d["up_block_types"] = list(self.up_block_types)
        return d


@dataclass
class MotionModuleConfig:
    """AnimateDiff "Vanilla" temporal module (frame-wise self-attention with sinusoidal positions)."""

    num_attention_heads: int = 8
    num_transformer_block: int = 1
    attention_block_types: tuple[str, ...] = ("Temporal_Self", "Temporal_Self")
    temporal_position_encoding_max_len: int = 32  # frames (clip + motion frames) it can position


@dataclass
class AudioConfig:
    """Audio path: wav2vec2 window -> audio tokens -> emotive audio attention."""

    seq_len: int = 5  # wav2vec2 frames in the window around each video frame (t-2 .. t+2)
    blocks: int = 12  # wav2vec2 hidden layers used (all of base-960h's transformer layers)
    channels: int = 768  # wav2vec2 hidden width
    intermediate_dim: int = 512  # AudioProjModel hidden width
    context_tokens: int = 32  # audio tokens per video frame
    attention_dim: int = 768  # width of the audio tokens (= cross-attention dim of attn2_0/1/2)
    emotion_head_dim: int = 80  # attn_audioemo: 8 heads x 80 = 640 inner width (released value)


@dataclass
class EmoCASTConfig:
    """Every size needed to build ``Net`` (ReferenceNet, denoising UNet, face locator, projections)."""

    unet: UNetConfig = field(default_factory=UNetConfig)
    motion: MotionModuleConfig = field(default_factory=MotionModuleConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    face_locator_channels: tuple[int, ...] = (16, 32, 64, 128)  # conv widths; 3 stride-2 convs (/8)
    face_embed_dim: int = 512  # ArcFace (insightface glintr100) embedding
    face_tokens: int = 4  # image-projection tokens appended after the 77 text tokens
    text_tokens: int = 77  # CLIP max length
    vae_scale_factor: int = 8  # pixels per latent cell
    emotive: bool = True  # EmoCAST's emotive text + audio attention; False = the Hallo network it extends

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "EmoCASTConfig":
        return cls(
            unet=UNetConfig(**_tuples(d["unet"])),
            motion=MotionModuleConfig(**_tuples(d["motion"])),
            audio=AudioConfig(**d["audio"]),
            **{k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k not in ("unet", "motion", "audio")},
        )


def _tuples(d: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def real_config(emotive: bool = True) -> EmoCASTConfig:
    """The released EmoCAST network size (2.49 B parameters); ``emotive=False``: Hallo's (2.42 B)."""
    return EmoCASTConfig(emotive=emotive)


def tiny_config() -> EmoCASTConfig:
    """Same topology as the real network with a few channels: two resolution levels, 8x8 latents.

    Used by tests and for timing on a CPU; random weights. 32x32 pixel frames with the tiny VAE
    (scale factor 4) give 8x8 latents.
    """
    return EmoCASTConfig(
        unet=UNetConfig(
            block_out_channels=(32, 64),
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            layers_per_block=1,
            attention_head_dim=4,
            cross_attention_dim=32,
            norm_num_groups=8,
            sample_size=8,
        ),
        motion=MotionModuleConfig(num_attention_heads=4, temporal_position_encoding_max_len=32),
        audio=AudioConfig(
            seq_len=5, blocks=2, channels=32, intermediate_dim=32, context_tokens=4, attention_dim=32,
            emotion_head_dim=8,
        ),
        face_locator_channels=(8, 16, 32),
        face_embed_dim=16,
        face_tokens=4,
        text_tokens=16,
        vae_scale_factor=4,
    )
