"""A tiny random EmoCAST pipeline: the real code paths with a few channels, for tests and CPU timing.

Every component is the real class (AutoencoderKL, CLIPTextModel, Wav2Vec2Model, our UNets, ...)
built from a small config with seeded random weights; nothing is downloaded. The tokenizer is a
byte-level tokenizer (one token per UTF-8 byte) built in memory.
"""

from __future__ import annotations

from emocast.diffusion.config import EmoCASTConfig, tiny_config


def tiny_tokenizer(max_length: int = 16):
    """A CLIP-style fast tokenizer with one token per byte, padding to ``max_length``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {token: i for i, token in enumerate(["<|pad|>", "<|startoftext|>", "<|endoftext|>"] + sorted(alphabet))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<|startoftext|>", eos_token="<|endoftext|>", pad_token="<|pad|>",
        model_max_length=max_length,
    )


def tiny_pipeline(seed: int = 0, config: EmoCASTConfig | None = None):
    """Build an EmoCASTPipeline with tiny random components (CPU, float32, 32 px frames -> 8x8 latents)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler
    from transformers import CLIPTextConfig, CLIPTextModel, Wav2Vec2Config, Wav2Vec2Model

    from emocast.diffusion.net import Net
    from emocast.diffusion.pipeline_emocast import EmoCASTPipeline
    from emocast.diffusion.weights import scheduler_config

    config = config or tiny_config()
    torch.manual_seed(seed)
    net = Net.from_config(config)
    # random weights everywhere, also in the layers training starts at zero (zero convs, motion
    # proj_out, face-locator conv_out), so every conditioning path reaches the output
    for name, param in net.named_parameters():
        if name.split(".")[-2].startswith(("zero_conv", "proj_out", "conv_out")) and not param.any():
            torch.nn.init.normal_(param, std=0.1)
    tokenizer = tiny_tokenizer(config.text_tokens)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), hidden_size=config.unet.cross_attention_dim, intermediate_size=37,
        num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=config.text_tokens,
        pad_token_id=0, bos_token_id=1, eos_token_id=2,
    ))
    audio_encoder = Wav2Vec2Model(Wav2Vec2Config(
        hidden_size=config.audio.channels, num_hidden_layers=config.audio.blocks, num_attention_heads=2,
        intermediate_size=37, conv_dim=(16, 16), conv_kernel=(10, 3), conv_stride=(5, 2), conv_bias=False,
        num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2, feat_extract_norm="group",
    ))
    levels = {4: 3, 8: 4}[config.vae_scale_factor]
    vae = AutoencoderKL(
        block_out_channels=(16,) * levels, down_block_types=("DownEncoderBlock2D",) * levels,
        up_block_types=("UpDecoderBlock2D",) * levels, latent_channels=4, layers_per_block=1, norm_num_groups=8,
    )
    return EmoCASTPipeline(
        vae=vae.eval(), text_encoder=text_encoder.eval(), tokenizer=tokenizer, audio_encoder=audio_encoder.eval(),
        reference_unet=net.reference_unet.eval(), denoising_unet=net.denoising_unet.eval(),
        face_locator=net.face_locator.eval(), image_proj=net.imageproj.eval(), audio_proj=net.audioproj.eval(),
        scheduler=DDIMScheduler(**scheduler_config()),
    )
