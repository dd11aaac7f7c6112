"""Text-guided emotive attention (EmoCAST Sec. 3.2, eq. 2) as a decoupled cross-attention processor.

Every spatial cross-attention (``attn2``) of both UNets receives ``cat([text tokens (77), face
tokens (4)])``. The SD1.5 projections ``to_k`` / ``to_v`` attend to the CLIP ViT-L/14 text of the
emotion prompt; the extra projections ``to_k_ip.0`` / ``to_v_ip.0`` attend to the face tokens; the
two results are added (face branch times ``scale``) before ``to_out``::

    Attn(Q, K_text, V_text) + scale * Attn(Q, K_face, V_face)

This is diffusers' IP-Adapter processor layout (``IPAdapterAttnProcessor2_0`` with one adapter), so
the parameter names match the released checkpoint: ``attn2.processor.to_k_ip.0.weight``.
"""

from __future__ import annotations

import torch
from torch import nn

from emocast.diffusion.attention_ops import multi_head_attention, output_projection


class EmotiveTextAttnProcessor(nn.Module):
    """Decoupled text + face cross-attention; owns only the face-branch projections and a scale."""

    def __init__(self, hidden_size: int, cross_attention_dim: int, num_tokens: int = 4, scale: float = 1.0):
        """Args:
        hidden_size: inner width of the attention (heads x head width), e.g. 320.
        cross_attention_dim: width of the text and face tokens (768).
        num_tokens: face tokens at the end of ``encoder_hidden_states``.
        scale: weight of the face branch.
        """
        super().__init__()
        self.hidden_size = hidden_size
        self.num_tokens = num_tokens
        self.scale = scale
        self.to_k_ip = nn.ModuleList([nn.Linear(cross_attention_dim, hidden_size, bias=False)])
        self.to_v_ip = nn.ModuleList([nn.Linear(cross_attention_dim, hidden_size, bias=False)])

    def __call__(
        self,
        attn,
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        temb: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """hidden_states (N, L, C); encoder_hidden_states (N, 77 + num_tokens, D) -> (N, L, C)."""
        if encoder_hidden_states is None:
            raise ValueError("the emotive text attention needs text + face tokens as encoder_hidden_states")
        text_tokens = encoder_hidden_states[:, : -self.num_tokens]  # (N, 77, D)
        face_tokens = encoder_hidden_states[:, -self.num_tokens :]  # (N, 4, D)
        query = attn.to_q(hidden_states)
        text_out = multi_head_attention(query, attn.to_k(text_tokens), attn.to_v(text_tokens), attn.heads)
        face_out = multi_head_attention(query, self.to_k_ip[0](face_tokens), self.to_v_ip[0](face_tokens), attn.heads)
        hidden_states = (text_out + self.scale * face_out).to(query.dtype)
        return output_projection(attn, hidden_states)


def install_emotive_text_processors(unet: nn.Module, cross_attention_dim: int, num_tokens: int) -> None:
    """Give every cross-attention ``attn2`` of ``unet`` an EmotiveTextAttnProcessor of its width."""
    from diffusers.models.attention_processor import Attention

    for name, module in unet.named_modules():
        if isinstance(module, Attention) and name.endswith("attn2") and ".attentions." in name:
            hidden_size = module.to_q.out_features
            processor = EmotiveTextAttnProcessor(hidden_size, cross_attention_dim, num_tokens=num_tokens)
            module.set_processor(processor.to(device=module.to_q.weight.device, dtype=module.to_q.weight.dtype))
