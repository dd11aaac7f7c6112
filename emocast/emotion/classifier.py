"""The embedding layer of prompt understanding: a soft nearest-prototype classifier over MiniLM
sentence embeddings of the exemplar descriptions in exemplars.py.

For each emotion the score is the mean cosine similarity of the prompt to its K closest exemplars
(a kNN that tolerates a few off-topic exemplars); scores become logits by a temperature.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

import numpy as np

from emocast.emotion.exemplars import EXEMPLARS
from emocast.emotion.plan import EMOTIONS

logger = logging.getLogger(__name__)

TOP_K = 3  # exemplars averaged per emotion
TEMPERATURE = 0.05  # cosine units per logit: a 0.1 similarity lead is e^2 in odds


# The exemplar embeddings ship with the package (computing them takes ~5 s of one core on every
# cold start); the file is keyed by a hash of the exemplar texts and the model, and is recomputed
# in memory when they no longer match.
BANK_FILE = Path(__file__).parent / "data" / "exemplar_embeddings.npz"


def _exemplar_texts() -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for i, emotion in enumerate(EMOTIONS):
        for sentence in EXEMPLARS[emotion]:
            texts.append(sentence)
            labels.append(i)
    return texts, np.asarray(labels)


def bank_key(texts: list[str]) -> str:
    """Hash of the exemplar texts and the MiniLM weights file (its size), naming a valid cache."""
    import hashlib

    from emocast.emotion.minilm import model_dir

    digest = hashlib.sha256("\n".join(texts).encode())
    digest.update(str((model_dir() / "model.safetensors").stat().st_size).encode())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def exemplar_bank() -> tuple[np.ndarray, np.ndarray]:
    """(N, 384) exemplar embeddings and (N,) their emotion indices: from the shipped file if current."""
    texts, labels = _exemplar_texts()
    key = bank_key(texts)
    if BANK_FILE.exists():
        with np.load(BANK_FILE) as data:
            if str(data["key"]) == key:
                return data["embeddings"].astype(np.float32), labels
        logger.info("exemplar embeddings out of date; recomputing (run python -m emocast.emotion.classifier)")
    from emocast.emotion.minilm import embed

    return embed(texts), labels


def write_bank(path: Path = BANK_FILE) -> Path:
    """Compute the exemplar embeddings and save them with their key (run after editing exemplars.py)."""
    from emocast.emotion.minilm import embed

    texts, _ = _exemplar_texts()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, key=np.asarray(bank_key(texts)), embeddings=embed(texts).astype(np.float32))
    return path


def similarity_scores(embeddings: np.ndarray) -> np.ndarray:
    """(M, 8) mean top-K cosine similarity of M prompt embeddings to each emotion's exemplars."""
    bank, labels = exemplar_bank()
    sims = embeddings @ bank.T  # (M, N)
    scores = np.zeros((len(embeddings), len(EMOTIONS)), np.float32)
    for i in range(len(EMOTIONS)):
        own = np.sort(sims[:, labels == i], axis=1)[:, -TOP_K:]  # (M, K)
        scores[:, i] = own.mean(axis=1)
    return scores


def embedding_logits(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Logits (M, 8) of each text and its best exemplar similarity (M,), for confidence checks."""
    from emocast.emotion.minilm import embed

    scores = similarity_scores(embed(texts))
    logits = (scores - scores.max(axis=1, keepdims=True)) / TEMPERATURE
    return logits, scores.max(axis=1)


if __name__ == "__main__":
    print(write_bank())
