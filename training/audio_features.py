"""wav2vec2 hidden states per video frame: the audio features EmoCAST's audio attention reads.

As in Hallo/EmoCAST, every hidden state of wav2vec2-base-960h (12 layers x 768) is used; the
50 Hz features are linearly resampled to the video's frame rate, so frame i of the clip gets row i.
The real model loads from a local folder (nothing is downloaded); tests and the tiny config use a
small randomly initialised wav2vec2 behind the same interface.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

from emocast.errors import EmocastError

SAMPLE_RATE = 16000  # Hz
TINY_WAV2VEC = dict(  # a 2-layer, 32-wide wav2vec2 with the real model's 320x downsampling
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=37,
    conv_dim=(16, 16, 16, 16, 16, 16, 16),
    conv_stride=(5, 2, 2, 2, 2, 2, 2),
    conv_kernel=(10, 3, 3, 3, 3, 2, 2),
    num_conv_pos_embeddings=16,
    num_conv_pos_embedding_groups=2,
    do_stable_layer_norm=False,
    feat_extract_norm="group",
    vocab_size=32,
)


class AudioEncoder:
    """wav2vec2 (real or tiny) that maps 16 kHz speech to (F, layers, channels) per-frame features."""

    def __init__(self, model) -> None:
        self.model = model.eval()
        self.num_layers = model.config.num_hidden_layers
        self.channels = model.config.hidden_size

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> "AudioEncoder":
        """Load wav2vec2 from a local folder (config.json + weights); raise EmocastError if absent."""
        from transformers import Wav2Vec2Model

        if not os.path.isdir(path):
            raise EmocastError(f"wav2vec2 folder {path} does not exist; download facebook/wav2vec2-base-960h there")
        try:
            return cls(Wav2Vec2Model.from_pretrained(str(path), local_files_only=True))
        except OSError as e:
            raise EmocastError(f"cannot load wav2vec2 from {path}: {e}") from e

    @classmethod
    def tiny(cls, seed: int = 0) -> "AudioEncoder":
        """A small random wav2vec2 (tests, tiny config)."""
        import torch
        from transformers import Wav2Vec2Config, Wav2Vec2Model

        torch.manual_seed(seed)
        return cls(Wav2Vec2Model(Wav2Vec2Config(**TINY_WAV2VEC)))

    def __call__(self, samples: np.ndarray, num_frames: int):
        """(num_frames, layers, channels) float32 tensor for mono 16 kHz `samples`.

        Args:
            samples: (N,) float32 speech covering the frames.
            num_frames: video frames to produce features for.
        """
        import torch
        import torch.nn.functional as F

        device = next(self.model.parameters()).device
        samples = np.asarray(samples, np.float32)
        min_samples = 400 * 2  # the conv front end needs a little audio
        if len(samples) < min_samples:
            samples = np.pad(samples, (0, min_samples - len(samples)))
        audio = (samples - samples.mean()) / np.sqrt(samples.var() + 1e-7)  # Wav2Vec2FeatureExtractor's normalisation
        with torch.no_grad():
            output = self.model(torch.from_numpy(audio)[None].to(device), output_hidden_states=True)
        hidden = torch.stack(output.hidden_states[1:], dim=1)  # (1, L, T, C), T at 50 Hz
        hidden = hidden[0].permute(0, 2, 1)  # (L, C, T)
        hidden = F.interpolate(hidden, size=num_frames, mode="linear", align_corners=True)  # (L, C, F)
        return hidden.permute(2, 0, 1).float().cpu()  # (F, L, C)


@lru_cache(maxsize=2)
def _encoder(path: str) -> AudioEncoder:
    return AudioEncoder.from_pretrained(path)


def wav2vec_features(samples: np.ndarray, num_frames: int, path: str | os.PathLike) -> np.ndarray:
    """(num_frames, 12, 768) float32 wav2vec2 features of 16 kHz `samples` with the model in `path`."""
    return _encoder(str(path))(samples, num_frames).numpy()
