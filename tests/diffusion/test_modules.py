"""Shape tests of every EmoCAST module at the tiny size."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_diffusion_face_locator_shapes(tiny_config):
    from emocast.diffusion.net import build_face_locator

    locator = build_face_locator(tiny_config)
    out = locator(torch.rand(2, 3, 3, 32, 32))
    assert out.shape == (2, tiny_config.unet.block_out_channels[0], 3, 8, 8)
    assert torch.count_nonzero(out) == 0  # zero-initialised conv_out: an untrained locator adds nothing


def test_diffusion_projections_shapes(tiny_config):
    from emocast.diffusion.net import build_audio_proj, build_image_proj

    a = tiny_config.audio
    tokens = build_audio_proj(tiny_config)(torch.randn(2, 3, a.seq_len, a.blocks, a.channels))
    assert tokens.shape == (2, 3, a.context_tokens, a.attention_dim)
    face = build_image_proj(tiny_config)(torch.randn(2, tiny_config.face_embed_dim))
    assert face.shape == (2, tiny_config.face_tokens, tiny_config.unet.cross_attention_dim)


def test_diffusion_motion_module_uses_motion_frames():
    from emocast.diffusion.motion_module import MotionModule

    torch.manual_seed(0)
    module = MotionModule(16, num_attention_heads=2, norm_num_groups=4, temporal_position_encoding_max_len=8)
    torch.nn.init.normal_(module.temporal_transformer.proj_out.weight)  # leave the identity start
    x = torch.randn(1, 16, 3, 4, 4)
    out = module(x)
    assert out.shape == x.shape
    with_motion = module(x, motion_frames=torch.randn(1, 16, 2, 4, 4))
    assert with_motion.shape == x.shape and not torch.allclose(out, with_motion)
    with pytest.raises(ValueError, match="positions"):
        module(torch.randn(1, 16, 9, 4, 4))


def test_diffusion_emotive_text_processor_adds_face_branch():
    from diffusers.models.attention_processor import Attention

    from emocast.diffusion.emotive_text_attention import EmotiveTextAttnProcessor

    torch.manual_seed(0)
    attn = Attention(query_dim=16, cross_attention_dim=8, heads=2, dim_head=8)
    attn.set_processor(EmotiveTextAttnProcessor(16, 8, num_tokens=4))
    assert "processor.to_k_ip.0.weight" in dict(attn.named_parameters())
    x, text, face = torch.randn(2, 5, 16), torch.randn(2, 6, 8), torch.randn(2, 4, 8)
    out = attn(x, encoder_hidden_states=torch.cat([text, face], 1))
    assert out.shape == (2, 5, 16)
    other_face = attn(x, encoder_hidden_states=torch.cat([text, torch.randn(2, 4, 8)], 1))
    assert not torch.allclose(out, other_face)  # the face tokens reach the output
    attn.processor.scale = 0.0
    assert torch.allclose(attn(x, encoder_hidden_states=torch.cat([text, face], 1)),
                          attn(x, encoder_hidden_states=torch.cat([text, torch.randn(2, 4, 8)], 1)), atol=1e-6)


def test_diffusion_emotive_audio_attention_masks_and_prompt():
    from emocast.diffusion.emotive_audio_attention import EmotiveAudioTransformer

    torch.manual_seed(0)
    module = EmotiveAudioTransformer(16, 8, heads=2, audio_dim=12, text_dim=10, emotion_head_dim=4, norm_num_groups=4)
    block = module.transformer_blocks[0]
    for conv in (block.zero_conv_full, block.zero_conv_face, block.zero_conv_lip):
        torch.nn.init.normal_(conv.weight, std=0.5)
    x, audio, text = torch.randn(1, 16, 2, 4, 4), torch.randn(1, 2, 3, 12), torch.randn(1, 5, 10)
    masks = torch.zeros(1, 3, 1, 8, 8)
    masks[:, 2, :, 4:, 2:6] = 1  # lips only
    out = module(x, audio, text, masks)
    assert out.shape == x.shape
    assert not torch.allclose(out, module(x, audio, torch.randn(1, 5, 10), masks))  # the prompt matters
    assert not torch.allclose(out, module(x, torch.randn(1, 2, 3, 12), text, masks))  # the audio matters
    # with every region masked off, the audio cannot reach the features
    off = torch.zeros(1, 3, 1, 8, 8)
    assert torch.allclose(module(x, audio, text, off), module(x, torch.randn(1, 2, 3, 12), text, off), atol=1e-5)


def test_diffusion_unet3d_and_reference_net_shapes(tiny_config):
    from emocast.diffusion.net import Net

    torch.manual_seed(0)
    net = Net.from_config(tiny_config).eval()
    c, a = tiny_config, tiny_config.audio
    b, f = 2, 3
    with torch.no_grad():
        out = net(
            torch.randn(b, 4, f, 8, 8), torch.tensor([10, 900]), torch.randn(b, 1 + 2, 4, 8, 8),
            torch.randn(b, c.face_embed_dim), torch.randn(b, c.text_tokens, c.unet.cross_attention_dim),
            torch.randn(b, f, a.seq_len, a.blocks, a.channels), torch.rand(b, 3, 32, 32), torch.rand(b, 3, 1, 32, 32),
            use_reference=torch.tensor([True, False]),
        )
    assert out.shape == (b, 4, f, 8, 8) and torch.isfinite(out).all()
    paths = [p for p, _ in net.reference_unet.named_modules() if p.endswith("attn1")]
    assert paths and len(paths) == len([p for p, _ in net.denoising_unet.named_modules()
                                        if p.endswith("attn1") and ".attentions." in p])
    assert not net.bank.reference  # cleared after the call


def test_diffusion_reference_attention_reads_portrait(tiny_config):
    from emocast.diffusion.net import Net

    torch.manual_seed(0)
    net = Net.from_config(tiny_config).eval()
    c, a = tiny_config, tiny_config.audio
    args = lambda ref: (torch.zeros(1, 4, 2, 8, 8), torch.tensor([500]), ref, torch.ones(1, c.face_embed_dim),  # noqa: E731
                        torch.ones(1, c.text_tokens, c.unet.cross_attention_dim), torch.ones(1, 2, a.seq_len, a.blocks, a.channels),
                        torch.ones(1, 3, 32, 32))
    ref1, ref2 = torch.randn(1, 3, 4, 8, 8), torch.randn(1, 3, 4, 8, 8)
    with torch.no_grad():
        assert not torch.allclose(net(*args(ref1)), net(*args(ref2)))
        # without the reference (CFG's unconditional branch) only the motion frames (mid block) differ
        ref3 = ref1.clone()
        ref3[:, 0] = torch.randn(1, 4, 8, 8)
        off = torch.tensor([False])
        assert torch.allclose(net(*args(ref1), use_reference=off), net(*args(ref3), use_reference=off), atol=1e-5)
