"""The EmoCAST network (EmoCAST Sec. 3.2) as one module whose state dict is the released ``net.pth``.

``Net`` holds the five trained parts under the checkpoint's prefixes: ``reference_unet.``,
``denoising_unet.``, ``face_locator.``, ``imageproj.``, ``audioproj.``. Its ``forward`` is the
training-time call (one denoising prediction for a batch of clips with all conditioning); the
inference pipeline calls the parts separately so it can reuse the reference features.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from emocast.diffusion.audio_proj import AudioProjModel
from emocast.diffusion.config import EmoCASTConfig
from emocast.diffusion.face_locator import FaceLocator
from emocast.diffusion.image_proj import ImageProjModel
from emocast.diffusion.reference_net import ReferenceBank, ReferenceNet
from emocast.diffusion.unet_3d import UNet3DConditionModel

PREFIXES = ("reference_unet", "denoising_unet", "face_locator", "imageproj", "audioproj")


def build_reference_net(config: EmoCASTConfig) -> ReferenceNet:
    return ReferenceNet(**config.unet.diffusers_kwargs(), face_tokens=config.face_tokens, emotive=config.emotive)


def build_denoising_unet(config: EmoCASTConfig) -> UNet3DConditionModel:
    return UNet3DConditionModel(
        **config.unet.diffusers_kwargs(),
        face_tokens=config.face_tokens,
        audio_attention_dim=config.audio.attention_dim,
        audio_emotion_head_dim=config.audio.emotion_head_dim,
        motion_module_kwargs=asdict(config.motion),
        emotive=config.emotive,
    )


def build_face_locator(config: EmoCASTConfig) -> FaceLocator:
    return FaceLocator(conditioning_embedding_channels=config.unet.block_out_channels[0],
                       block_out_channels=config.face_locator_channels)


def build_image_proj(config: EmoCASTConfig) -> ImageProjModel:
    return ImageProjModel(cross_attention_dim=config.unet.cross_attention_dim,
                          clip_embeddings_dim=config.face_embed_dim, clip_extra_context_tokens=config.face_tokens)


def build_audio_proj(config: EmoCASTConfig) -> AudioProjModel:
    a = config.audio
    return AudioProjModel(seq_len=a.seq_len, blocks=a.blocks, channels=a.channels, intermediate_dim=a.intermediate_dim,
                          output_dim=a.attention_dim, context_tokens=a.context_tokens)


class Net(nn.Module):
    """ReferenceNet + denoising UNet3D + face locator + face / audio projections.

    Trainable parts per stage (as in Hallo / EmoCAST training): stage 1 (images) trains
    reference_unet, denoising_unet's spatial layers, face_locator and imageproj; stage 2 (videos)
    trains audioproj, the audio modules and the motion modules (and the emotive text projections).
    """

    def __init__(self, reference_unet: ReferenceNet, denoising_unet: UNet3DConditionModel, face_locator: FaceLocator,
                 imageproj: ImageProjModel, audioproj: AudioProjModel) -> None:
        super().__init__()
        self.reference_unet = reference_unet
        self.denoising_unet = denoising_unet
        self.face_locator = face_locator
        self.imageproj = imageproj
        self.audioproj = audioproj
        self.bank = ReferenceBank()
        self.reference_unet.attach_bank(self.bank)
        self.denoising_unet.attach_bank(self.bank)

    @classmethod
    def from_config(cls, config: EmoCASTConfig) -> "Net":
        """Build with random weights on the current default device (use ``torch.device("meta")`` for no memory)."""
        return cls(build_reference_net(config), build_denoising_unet(config), build_face_locator(config),
                   build_image_proj(config), build_audio_proj(config))

    @property
    def emotive(self) -> bool:
        """False for the Hallo network (no emotive text / audio attention)."""
        return bool(self.denoising_unet.config.emotive)

    def context_tokens(self, text_embeds: torch.Tensor | None, face_tokens: torch.Tensor) -> torch.Tensor:
        """Cross-attention tokens: (B, 77 + 4, D) text then face tokens; Hallo: the (B, 4, D) face tokens."""
        if not self.emotive or text_embeds is None:
            return face_tokens
        return torch.cat([text_embeds.to(face_tokens.dtype), face_tokens], dim=1)

    def load_checkpoint(self, path: str | Path, strict: bool = True) -> None:
        """Load a released ``net.pth`` (or .safetensors) state dict; strict by default, like the release."""
        state = load_state_dict_file(path)
        self.load_state_dict(state, strict=strict)

    def fill_reference_bank(self, reference_latents: torch.Tensor, encoder_hidden_states: torch.Tensor,
                            use_reference: torch.Tensor | None = None) -> None:
        """Run the ReferenceNet at t=0 and store portrait + motion-frame features in ``self.bank``.

        Args:
            reference_latents: (B, 1 + M, 4, h, w) latents of the portrait followed by M motion frames.
            encoder_hidden_states: (B, 77 + 4, D) text + face tokens (as for the denoising UNet).
            use_reference: (B,) bool, False where a row must not see the portrait (CFG uncond / dropout).
        """
        b, k = reference_latents.shape[:2]
        written = self.bank.start_writing()
        try:
            self.reference_unet(reference_latents.flatten(0, 1), 0, encoder_hidden_states.repeat_interleave(k, dim=0))
        finally:
            self.bank.stop_writing()
        self.bank.reference = {p: x.unflatten(0, (b, k))[:, 0] for p, x in written.items()}  # (B, L, C)
        self.bank.motion = {p: x.unflatten(0, (b, k))[:, 1:] for p, x in written.items()}  # (B, M, L, C)
        self.bank.use_reference = use_reference

    def forward(
        self,
        noisy_latents: torch.Tensor,
        timesteps: torch.Tensor,
        reference_latents: torch.Tensor,
        face_embeds: torch.Tensor,
        text_embeds: torch.Tensor,
        audio_features: torch.Tensor,
        face_region: torch.Tensor,
        region_masks: torch.Tensor | None = None,
        use_reference: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """One prediction (training call; zero an input per sample for classifier-free-guidance dropout).

        Args:
            noisy_latents: (B, 4, F, h, w) noised video latents (VAE latents x 0.18215).
            timesteps: (B,) diffusion timesteps.
            reference_latents: (B, 1 + M, 4, h, w) portrait latents then M motion-frame latents.
            face_embeds: (B, 512) ArcFace embeddings (zeros = dropped).
            text_embeds: (B, 77, 768) CLIP last hidden state of the emotion prompt ("" = dropped).
            audio_features: (B, F, 5, 12, 768) wav2vec2 windows (zeros = dropped).
            face_region: (B, 3, H, W) face-region mask image in 0..1 (face locator input).
            region_masks: (B, 3, F or 1, H, W) full / face / lip masks in 0..1.
            use_reference: (B,) bool, False drops the reference attention for that sample.

        Returns:
            (B, 4, F, h, w) prediction (v for v-prediction: target = alpha_t * noise - sigma_t * x0,
            i.e. ``scheduler.get_velocity(latents, noise, timesteps)``).
        """
        face_tokens = self.imageproj(face_embeds)  # (B, 4, 768)
        encoder_hidden_states = self.context_tokens(text_embeds, face_tokens)  # (B, 81, 768)
        self.fill_reference_bank(reference_latents, encoder_hidden_states, use_reference)
        audio_tokens = self.audioproj(audio_features)  # (B, F, 32, 768)
        face_features = self.face_locator(face_region.unsqueeze(2))  # (B, 320, 1, h, w)
        try:
            return self.denoising_unet(noisy_latents, timesteps, encoder_hidden_states, audio_tokens, text_embeds,
                                       face_features, region_masks, bank=self.bank)
        finally:
            self.bank.clear()


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.pth`` / ``.bin`` / ``.ckpt`` (torch) or ``.safetensors``."""
    from emocast.errors import EmocastError

    path = Path(path)
    if not path.is_file():
        raise EmocastError(f"checkpoint {path} does not exist")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
    except Exception as e:  # torch / safetensors raise many types for a damaged file
        raise EmocastError(f"cannot read checkpoint {path}: {e}") from e
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise EmocastError(f"checkpoint {path} does not hold a state dict")
    return state
