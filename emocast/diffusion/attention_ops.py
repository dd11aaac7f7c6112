"""Multi-head scaled-dot-product attention on a diffusers ``Attention`` module's projections.

Shared by the attention processors of this package (reference, emotive text, temporal); uses
``torch.nn.functional.scaled_dot_product_attention`` (flash / memory-efficient kernels on GPU).
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


def multi_head_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    heads: int,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Attend projected tokens.

    Args:
        query: (N, Lq, H*d) projected queries.
        key, value: (N, Lk, H*d) projected keys / values.
        heads: number of heads H.
        mask: optional bool (N, 1, 1, Lk) or (N, 1, Lq, Lk), True where a key may be attended.

    Returns:
        (N, Lq, H*d) attention output (before the output projection).
    """
    n, lq, inner = query.shape
    head_dim = inner // heads
    q = query.view(n, lq, heads, head_dim).transpose(1, 2)  # (N, H, Lq, d)
    k = key.view(n, key.shape[1], heads, head_dim).transpose(1, 2)  # (N, H, Lk, d)
    v = value.view(n, value.shape[1], heads, head_dim).transpose(1, 2)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (N, H, Lq, d)
    return out.transpose(1, 2).reshape(n, lq, inner)


def output_projection(attn, hidden_states: torch.Tensor) -> torch.Tensor:
    """``to_out`` (linear + dropout) of a diffusers Attention, with its output rescale."""
    hidden_states = attn.to_out[1](attn.to_out[0](hidden_states))
    return hidden_states / attn.rescale_output_factor
