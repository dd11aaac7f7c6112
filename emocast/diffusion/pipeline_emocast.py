"""EmoCASTPipeline (EmoCAST Sec. 3.2): portrait + speech + emotion prompt -> video frames, clip by clip.

A diffusers ``DiffusionPipeline`` (``save_pretrained`` / ``from_pretrained``) with components:
vae, text_encoder + tokenizer (CLIP ViT-L/14), audio_encoder (wav2vec2-base-960h), reference_unet,
denoising_unet, face_locator, image_proj, audio_proj and a DDIM scheduler (zero-SNR, v-prediction,
trailing timesteps, as released).

The video is made in clips of ``clip_frames`` frames. Each clip continues from ``motion_frames`` last
frames of the previous one (the first clip starts from the portrait), so minutes of audio do not
drift. The portrait's reference features are computed once per video; guidance branches run as
one batch.

Guidance: four branches (nothing / + reference / + text / + audio) combine as

    pred = u + s_ref (r - u) + s_text (t - r) + s_audio (a - t)

With equal strengths this is the released single-scale guidance and only two branches run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from diffusers import DiffusionPipeline
from diffusers.utils import BaseOutput
from torch.nn import functional as F

from emocast.diffusion.reference_net import ReferenceBank

AUDIO_RATE = 16000  # Hz, wav2vec2 input rate
AUDIO_WINDOW = 5  # wav2vec2 frames per video frame (t-2 .. t+2)
AUDIO_CHUNK_FRAMES = 750  # video frames of audio encoded at once (30 s at 25 fps), bounds memory
AUDIO_CONTEXT_FRAMES = 50  # extra frames of context on each side of a chunk (2 s at 25 fps)

# (use_reference, use_text, use_audio) of each guidance branch
BRANCH_UNCOND, BRANCH_REF, BRANCH_TEXT, BRANCH_FULL = (False, False, False), (True, False, False), (True, True, False), (True, True, True)

ProgressFn = Callable[[int, int, int, int], None]  # (clip, clips, step, steps)


@dataclass
class EmoCASTPipelineOutput(BaseOutput):
    """frames: (F, H, W, 3) uint8 RGB video frames."""

    frames: np.ndarray


def guidance_branches(s_ref: float, s_text: float, s_audio: float) -> tuple[list[tuple[bool, bool, bool]], list[float]]:
    """Branches to run and the weights that combine their predictions (see module docstring)."""
    if s_ref == s_text == s_audio:
        if s_ref == 1.0:
            return [BRANCH_FULL], [1.0]
        return [BRANCH_UNCOND, BRANCH_FULL], [1.0 - s_ref, s_ref]
    return [BRANCH_UNCOND, BRANCH_REF, BRANCH_TEXT, BRANCH_FULL], [1.0 - s_ref, s_ref - s_text, s_text - s_audio, s_audio]


class EmoCASTPipeline(DiffusionPipeline):
    """Audio-driven, emotion-prompted portrait animation (see module docstring)."""

    model_cpu_offload_seq = "text_encoder->audio_encoder->image_proj->audio_proj->reference_unet->denoising_unet->vae"

    def __init__(self, vae, text_encoder, tokenizer, audio_encoder, reference_unet, denoising_unet, face_locator,
                 image_proj, audio_proj, scheduler) -> None:
        super().__init__()
        self.register_modules(
            vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, audio_encoder=audio_encoder,
            reference_unet=reference_unet, denoising_unet=denoising_unet, face_locator=face_locator,
            image_proj=image_proj, audio_proj=audio_proj, scheduler=scheduler,
        )
        self.vae_scale_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        self.bank = ReferenceBank()
        self.reference_unet.attach_bank(self.bank)
        self.denoising_unet.attach_bank(self.bank)

    @property
    def size_multiple(self) -> int:
        """Frame sides must be multiples of this (VAE factor x the UNet's downsamplings: 64 released)."""
        return self.vae_scale_factor * 2 ** (len(self.denoising_unet.config.block_out_channels) - 1)

    @property
    def emotive(self) -> bool:
        return bool(self.denoising_unet.config.emotive)

    # ------------------------------------------------------------------------------------------
    # 0. inputs

    def check_inputs(self, portrait: np.ndarray, audio: np.ndarray, prompt: str, face_embeds, clip_frames: int,
                     motion_frames: int, num_inference_steps: int) -> None:
        """Raise ValueError with what is wrong and what to do."""
        if not (isinstance(portrait, np.ndarray) and portrait.ndim == 3 and portrait.shape[2] == 3):
            raise ValueError("portrait must be an (H, W, 3) uint8 RGB array")
        side = self.size_multiple
        if portrait.shape[0] % side or portrait.shape[1] % side:
            raise ValueError(f"portrait sides must be multiples of {side} pixels, got {portrait.shape[:2]}; resize it")
        if not (isinstance(audio, np.ndarray) and audio.ndim == 1 and len(audio) > 0):
            raise ValueError("audio must be a non-empty (N,) float array of 16 kHz samples")
        if not isinstance(prompt, str):
            raise ValueError("prompt must be a string")
        if face_embeds is None:
            raise ValueError("face_embeds (the ArcFace embedding of the portrait) is required")
        max_len = self.denoising_unet.config.motion_module_kwargs["temporal_position_encoding_max_len"]
        if clip_frames < 1 or motion_frames < 0 or clip_frames + motion_frames > max_len:
            raise ValueError(f"clip_frames + motion_frames must be between 1 and {max_len}")
        if num_inference_steps < 1:
            raise ValueError("num_inference_steps must be at least 1")

    # ------------------------------------------------------------------------------------------
    # 1-3. encoders

    @torch.no_grad()
    def encode_prompt(self, prompt: str) -> tuple[torch.Tensor, torch.Tensor]:
        """Emotion prompt -> (text, empty-prompt text) CLIP last hidden states, each (1, 77, D)."""
        inputs = self.tokenizer([prompt, ""], max_length=self.tokenizer.model_max_length, padding="max_length",
                                truncation=True, return_tensors="pt")
        hidden = self.text_encoder(inputs.input_ids.to(self.text_encoder.device)).last_hidden_state  # (2, 77, D)
        return hidden[:1], hidden[1:]

    @torch.no_grad()
    def encode_face(self, face_embeds: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ArcFace embedding (E,) -> (face tokens, zero-embedding tokens), each (1, 4, D)."""
        embeds = torch.as_tensor(np.asarray(face_embeds, dtype=np.float32)).reshape(1, -1)
        embeds = embeds.to(self.image_proj.device, self.image_proj.dtype)
        tokens = self.image_proj(torch.cat([embeds, torch.zeros_like(embeds)]))  # (2, 4, D)
        return tokens[:1], tokens[1:]

    @torch.no_grad()
    def encode_audio(self, audio: np.ndarray, num_frames: int, fps: float) -> torch.Tensor:
        """16 kHz speech -> wav2vec2 windows, (num_frames, 5, layers, C).

        All transformer layers' hidden states, with the convolutional features resampled to one per
        video frame (as Hallo / EmoCAST do), encoded in chunks of 30 s with 2 s of context each side.
        """
        samples_per_frame = AUDIO_RATE / fps
        audio = np.pad(audio.astype(np.float32), (0, max(0, int(math.ceil(num_frames * samples_per_frame)) - len(audio))))
        audio = (audio - audio.mean()) / np.sqrt(audio.var() + 1e-7)  # wav2vec2 feature-extractor normalisation
        chunks = []
        for start in range(0, num_frames, AUDIO_CHUNK_FRAMES):
            stop = min(num_frames, start + AUDIO_CHUNK_FRAMES)
            lo, hi = max(0, start - AUDIO_CONTEXT_FRAMES), min(num_frames, stop + AUDIO_CONTEXT_FRAMES)
            piece = audio[int(lo * samples_per_frame): int(math.ceil(hi * samples_per_frame))]
            states = self._wav2vec2_layers(piece, hi - lo)  # (hi - lo, layers, C)
            chunks.append(states[start - lo: stop - lo])
        states = torch.cat(chunks)  # (F, layers, C)
        offsets = torch.arange(AUDIO_WINDOW) - AUDIO_WINDOW // 2  # -2 .. 2
        index = (torch.arange(num_frames)[:, None] + offsets[None]).clamp(0, num_frames - 1)  # (F, 5)
        return states[index]  # (F, 5, layers, C)

    def _wav2vec2_layers(self, samples: np.ndarray, num_frames: int) -> torch.Tensor:
        model = self.audio_encoder
        if getattr(model.config, "do_stable_layer_norm", False):
            raise ValueError("the audio encoder must be a wav2vec2-base style model (post layer norm)")
        x = torch.from_numpy(samples).to(model.device, model.dtype)[None]  # (1, N)
        features = model.feature_extractor(x).transpose(1, 2)  # (1, T, C_conv), 50 per second
        features = F.interpolate(features.transpose(1, 2), size=num_frames, mode="linear", align_corners=True)
        hidden, _ = model.feature_projection(features.transpose(1, 2))  # (1, F, C)
        encoder = model.encoder
        hidden = encoder.layer_norm(hidden + encoder.pos_conv_embed(hidden))
        layers = []
        for layer in encoder.layers:
            out = layer(hidden)
            hidden = out[0] if isinstance(out, tuple) else out
            layers.append(hidden)
        return torch.stack(layers, dim=2)[0]  # (F, layers, C)

    # ------------------------------------------------------------------------------------------
    # 4-5. latents, masks, reference features

    @torch.no_grad()
    def encode_images(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in -1..1 -> (N, 4, h, w) scaled VAE latents (distribution mean)."""
        images = images.to(self.vae.device, self.vae.dtype)
        return self.vae.encode(images).latent_dist.mean * self.vae.config.scaling_factor

    @torch.no_grad()
    def decode_latents(self, latents: torch.Tensor, chunk: int = 8) -> np.ndarray:
        """(F, 4, h, w) latents -> (F, H, W, 3) uint8 frames, decoded a few frames at a time."""
        frames = []
        for i in range(0, latents.shape[0], chunk):
            z = latents[i: i + chunk].to(self.vae.device, self.vae.dtype) / self.vae.config.scaling_factor
            images = self.vae.decode(z).sample  # (n, 3, H, W) in -1..1
            frames.append(((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu())
        return torch.cat(frames).numpy()

    def prepare_masks(self, face_region: np.ndarray | None, region_masks: np.ndarray | None, size: tuple[int, int],
                      branches) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Face-locator features per branch (B, C0, 1, h, w) and region masks (1, 3, 1, H, W)."""
        unet = self.denoising_unet
        if face_region is None:
            face_region = np.ones(size, dtype=np.float32)
        region = torch.as_tensor(np.asarray(face_region, dtype=np.float32)).to(unet.device, self.face_locator.dtype)
        region = region.expand(1, 3, *region.shape[-2:]).unsqueeze(2)  # (1, 3, 1, H, W)
        features = self.face_locator(region)  # (1, C0, 1, h, w)
        keep = torch.tensor([b[0] for b in branches], device=unet.device, dtype=features.dtype)
        features = features * keep[:, None, None, None, None]  # zero where the branch drops the reference
        masks = None
        if region_masks is not None:
            masks = torch.as_tensor(np.asarray(region_masks, dtype=np.float32))[None, :, None].to(unet.device, unet.dtype)
        return features.to(unet.dtype), masks

    @torch.no_grad()
    def prepare_reference(self, latents: torch.Tensor, context: torch.Tensor) -> dict[str, torch.Tensor]:
        """ReferenceNet at t=0 on (N, 4, h, w) latents with (N, L, D) context -> attn1 inputs by path."""
        written = self.bank.start_writing()
        try:
            self.reference_unet(latents.to(self.reference_unet.dtype), 0, context.to(self.reference_unet.dtype))
        finally:
            self.bank.stop_writing()
        return written

    # ------------------------------------------------------------------------------------------
    # 6. generation

    @torch.no_grad()
    def __call__(self, portrait: np.ndarray, audio: np.ndarray, prompt: str, face_embeds, **kwargs) -> EmoCASTPipelineOutput:
        """Make the whole video in memory; see ``iter_clips`` for the arguments (it streams clip by clip)."""
        return EmoCASTPipelineOutput(frames=np.concatenate(list(self.iter_clips(portrait, audio, prompt, face_embeds, **kwargs))))

    @torch.no_grad()
    def iter_clips(
        self,
        portrait: np.ndarray,
        audio: np.ndarray,
        prompt: str,
        face_embeds: np.ndarray | torch.Tensor,
        face_region: np.ndarray | None = None,
        region_masks: np.ndarray | None = None,
        fps: float = 25.0,
        num_inference_steps: int = 40,
        clip_frames: int = 16,
        motion_frames: int = 2,
        reference_guidance_scale: float = 3.5,
        text_guidance_scale: float = 3.5,
        audio_guidance_scale: float = 3.5,
        region_weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        generator: torch.Generator | None = None,
        progress: ProgressFn | None = None,
        audio_features: torch.Tensor | None = None,
    ) -> Iterator[np.ndarray]:
        """Yield the video as (n, H, W, 3) uint8 arrays, one per clip.

        Args:
            portrait: (H, W, 3) uint8 RGB face-centred crop; sides multiple of 64 px (512 for the release).
            audio: (N,) float32 speech at 16 kHz; the video covers it at ``fps``.
            prompt: emotion prompt for the CLIP text encoder.
            face_embeds: (E,) ArcFace embedding of the portrait (512-d).
            face_region: (H, W) face-area mask in 0..1 for the face locator (None: whole image).
            region_masks: (3, H, W) full / face / lip masks in 0..1 (None: every region everywhere).
            fps: frames per second (the release was trained at 25).
            num_inference_steps: DDIM steps per clip.
            clip_frames: frames generated per clip (16 released).
            motion_frames: frames of the previous clip it continues from (2 released).
            reference_guidance_scale, text_guidance_scale, audio_guidance_scale: guidance strengths.
            region_weights: strengths of the full / face / lip audio branches.
            generator: seeds the noise.
            progress: called as progress(clip, clips, step, steps).
            audio_features: precomputed ``encode_audio`` output (skips the audio encoder).
        """
        # 0. check inputs
        self.check_inputs(portrait, audio, prompt, face_embeds, clip_frames, motion_frames, num_inference_steps)
        device, dtype = self.denoising_unet.device, self.denoising_unet.dtype
        height, width = portrait.shape[:2]
        num_frames = max(1, int(math.ceil(len(audio) / AUDIO_RATE * fps)))
        branches, weights = guidance_branches(reference_guidance_scale, text_guidance_scale, audio_guidance_scale)
        nb = len(branches)

        # 1. emotion prompt -> text tokens; 2. identity -> face tokens; cross-attention context per branch
        text, empty_text = self.encode_prompt(prompt)
        face, no_face = self.encode_face(face_embeds)
        context = torch.cat([self._context(text if b[1] else empty_text, face if b[0] else no_face) for b in branches])
        emotion_tokens = text.to(device, dtype).expand(nb, -1, -1)  # (nb, 77, D): the same in every branch

        # 3. speech -> wav2vec2 windows (F, 5, layers, C)
        if audio_features is None:
            audio_features = self.encode_audio(audio, num_frames, fps)
        audio_features = audio_features.to(self.audio_proj.device, self.audio_proj.dtype)

        # 4. portrait latents, face-locator features, region masks
        portrait_pixels = torch.from_numpy(portrait).permute(2, 0, 1)[None].float() / 127.5 - 1  # (1, 3, H, W)
        portrait_latents = self.encode_images(portrait_pixels)  # (1, 4, h, w)
        locator_features, masks = self.prepare_masks(face_region, region_masks, (height, width), branches)

        # 5. reference features of the portrait, once per video
        reference = self.prepare_reference(portrait_latents.expand(nb, -1, -1, -1), context)
        self.bank.reference = {p: x for p, x in reference.items()}  # (nb, L, C)
        self.bank.use_reference = torch.tensor([b[0] for b in branches], device=device)

        # 6. clips, each continuing from the last frames of the previous one
        clips = int(math.ceil(num_frames / clip_frames))
        previous = portrait_latents.expand(motion_frames, -1, -1, -1)  # the first clip starts from the portrait
        try:
            for clip in range(clips):
                start = clip * clip_frames
                frames = self._denoise_clip(
                    clip, clips, audio_features, start, clip_frames, previous, context, emotion_tokens,
                    locator_features, masks, branches, weights, region_weights, num_inference_steps, generator,
                    progress,
                )  # (clip_frames, 4, h, w)
                images = self.decode_latents(frames)  # (clip_frames, H, W, 3)
                if motion_frames:
                    tail = torch.from_numpy(images[-motion_frames:]).permute(0, 3, 1, 2).float() / 127.5 - 1
                    previous = self.encode_images(tail)  # (M, 4, h, w), re-encoded like the release
                yield images[: max(0, min(clip_frames, num_frames - start))]
        finally:
            self.bank.clear()

    def _context(self, text: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        return torch.cat([text.to(face.dtype), face], dim=1) if self.emotive else face

    def _denoise_clip(self, clip, clips, audio_features, start, clip_frames, previous, context, emotion_tokens,
                      locator_features, masks, branches, weights, region_weights, steps, generator, progress):
        """DDIM loop for one clip; returns (clip_frames, 4, h, w) latents."""
        device, dtype = self.denoising_unet.device, self.denoising_unet.dtype
        nb = len(branches)
        # audio tokens of this clip (the last clip is padded by repeating its last frame)
        index = torch.arange(start, start + clip_frames).clamp(max=audio_features.shape[0] - 1)
        clip_features = audio_features[index][None]  # (1, F, 5, layers, C)
        tokens = self.audio_proj(torch.cat([torch.zeros_like(clip_features), clip_features]))  # (2, F, Na, Da)
        audio_tokens = torch.stack([tokens[1] if b[2] else tokens[0] for b in branches]).to(device, dtype)

        # motion-frame features for the motion modules
        m = previous.shape[0]
        if m:
            written = self.prepare_reference(previous.repeat(nb, 1, 1, 1), context.repeat_interleave(m, dim=0))
            self.bank.motion = {p: x.unflatten(0, (nb, m)) for p, x in written.items()}  # (nb, M, L, C)

        self.scheduler.set_timesteps(steps, device=device)
        h, w = previous.shape[-2:] if m else locator_features.shape[-2:]
        shape = (1, self.denoising_unet.config.in_channels, clip_frames, h, w)
        latents = torch.randn(shape, generator=generator, device=generator.device if generator else "cpu")
        latents = latents.to(device, dtype) * self.scheduler.init_noise_sigma
        coefficients = torch.tensor(weights, device=device, dtype=torch.float32).view(nb, 1, 1, 1, 1)
        for i, t in enumerate(self.scheduler.timesteps):
            model_input = self.scheduler.scale_model_input(latents.expand(nb, -1, -1, -1, -1), t)
            prediction = self.denoising_unet(
                model_input, t, context.to(dtype), audio_tokens, emotion_tokens, locator_features, masks,
                region_weights, bank=self.bank,
            )  # (nb, 4, F, h, w)
            prediction = (prediction.float() * coefficients).sum(0, keepdim=True)
            latents = self.scheduler.step(prediction, t, latents.float(), eta=0.0).prev_sample.to(dtype)
            if progress is not None:
                progress(clip, clips, i + 1, steps)
        return latents[0].transpose(0, 1)  # (F, 4, h, w)
