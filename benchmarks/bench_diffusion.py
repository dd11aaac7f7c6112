"""Speed of the diffusion engine: seconds per 512x512 frame and peak GPU memory at default settings.

Real-size network (2.49 B parameters, random weights: timing does not depend on their values), real
-size VAE / CLIP text / wav2vec2 architectures, default settings: 16-frame clips continuing from 2
motion frames, 25 DDIM steps (the CLI default), guidance with equal strengths (2 batched branches),
bf16 (fp16 where bf16 is unsupported), SDPA attention, portrait features computed once per video.

    python benchmarks/bench_diffusion.py                 # CUDA: real size
    python benchmarks/bench_diffusion.py --compile       # + torch.compile of the denoising UNet
    python benchmarks/bench_diffusion.py --steps 10      # fewer steps
    python benchmarks/bench_diffusion.py --tiny          # tiny config on the CPU (not the product figure)

Without a CUDA GPU the real-size figure cannot be measured here; the script says so and, with
--tiny (the default on CPU), times the tiny test configuration instead, labelled as such.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def build_real_pipeline(device, dtype):
    """The real-size EmoCASTPipeline with random weights (no files needed)."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler
    from transformers import CLIPTextConfig, CLIPTextModel, Wav2Vec2Config, Wav2Vec2Model

    from emocast.diffusion.config import real_config
    from emocast.diffusion.net import Net
    from emocast.diffusion.pipeline_emocast import EmoCASTPipeline
    from emocast.diffusion.tiny import tiny_tokenizer
    from emocast.diffusion.weights import scheduler_config

    with torch.device(device):
        net = Net.from_config(real_config()).to(dtype)
        vae = AutoencoderKL(  # sd-vae-ft-mse architecture
            block_out_channels=(128, 256, 512, 512), down_block_types=("DownEncoderBlock2D",) * 4,
            up_block_types=("UpDecoderBlock2D",) * 4, layers_per_block=2, latent_channels=4, sample_size=512,
        ).to(dtype)
        tokenizer = tiny_tokenizer(77)
        text = CLIPTextModel(CLIPTextConfig(vocab_size=len(tokenizer), hidden_size=768, intermediate_size=3072,
                                            num_hidden_layers=12, num_attention_heads=12, max_position_embeddings=77,
                                            pad_token_id=0, bos_token_id=1, eos_token_id=2)).to(dtype)
        wav2vec = Wav2Vec2Model(Wav2Vec2Config())  # base: 12 layers x 768
    return EmoCASTPipeline(vae=vae.eval(), text_encoder=text.eval(), tokenizer=tokenizer, audio_encoder=wav2vec.eval(),
                           reference_unet=net.reference_unet.eval(), denoising_unet=net.denoising_unet.eval(),
                           face_locator=net.face_locator.eval(), image_proj=net.imageproj.eval(),
                           audio_proj=net.audioproj.eval(), scheduler=DDIMScheduler(**scheduler_config()))


def run(pipe, size: int, seconds: float, steps: int, clip_frames: int, motion_frames: int, device) -> tuple[float, int]:
    """Generate ``seconds`` of video; returns (wall seconds, frames)."""
    import torch

    rng = np.random.default_rng(0)
    portrait = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
    audio = (0.1 * rng.standard_normal(int(16000 * seconds))).astype(np.float32)
    embed = rng.standard_normal(pipe.image_proj.config.clip_embeddings_dim).astype(np.float32)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    frames = pipe(portrait, audio, "she just got her dream job", embed, num_inference_steps=steps,
                  clip_frames=clip_frames, motion_frames=motion_frames, generator=torch.Generator().manual_seed(0)).frames
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=25, help="DDIM steps (default 25, the CLI default)")
    parser.add_argument("--clips", type=int, default=2, help="16-frame clips to time (after one warm-up clip)")
    parser.add_argument("--dtype", choices=("bf16", "fp16", "fp32"), default="bf16")
    parser.add_argument("--compile", action="store_true", help="torch.compile the denoising UNet")
    parser.add_argument("--tiny", action="store_true", help="time the tiny test configuration (CPU)")
    args = parser.parse_args()

    import torch

    cuda = torch.cuda.is_available()
    if not cuda and not args.tiny:
        print("bench_diffusion: no CUDA GPU here; the real-size figure (s per 512x512 frame, peak GPU memory)"
              " needs one. Timing the tiny CPU configuration instead (--tiny); it is NOT the product figure.")
        args.tiny = True
    if args.tiny:
        from emocast.diffusion.tiny import tiny_pipeline

        torch.set_num_threads(1)  # tiny models run fastest on one thread
        pipe, size, device, clip = tiny_pipeline(0), 32, torch.device("cpu"), 16
        run(pipe, size, 0.2, 2, clip, 2, device)  # warm-up
        seconds, frames = run(pipe, size, args.clips * clip / 25, args.steps, clip, 2, device)
        print(f"TINY config on CPU ({torch.get_num_threads()} threads, 32x32, {args.steps} steps): "
              f"{seconds / frames:.3f} s/frame over {frames} frames  [not the real-size figure]")
        return

    device = torch.device("cuda")
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[args.dtype]
    if dtype == torch.bfloat16 and not torch.cuda.is_bf16_supported():
        dtype = torch.float16
    pipe = build_real_pipeline(device, dtype)
    if args.compile:
        pipe.denoising_unet = torch.compile(pipe.denoising_unet)
    run(pipe, 512, 16 / 25, 2, 16, 2, device)  # warm-up (kernels, compile)
    torch.cuda.reset_peak_memory_stats()
    seconds, frames = run(pipe, 512, args.clips * 16 / 25, args.steps, 16, 2, device)
    peak = torch.cuda.max_memory_allocated() / 2**30
    print(f"{torch.cuda.get_device_name()} | {str(dtype).split('.')[-1]} | SDPA | {args.steps} steps | 16+2 frames/clip"
          f" | compile={args.compile}: {seconds / frames:.3f} s per 512x512 frame ({frames} frames, {seconds:.1f} s),"
          f" peak GPU memory {peak:.1f} GiB")


if __name__ == "__main__":
    main()
