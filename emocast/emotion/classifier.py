"""The embedding layer of prompt understanding: a soft nearest-prototype classifier over MiniLM
sentence embeddings of the exemplar descriptions in exemplars.py.

For each emotion the score is the mean cosine similarity of the prompt to its K closest exemplars
(a kNN that tolerates a few off-topic exemplars); scores become logits by a temperature.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from emocast.emotion.exemplars import EXEMPLARS
from emocast.emotion.plan import EMOTIONS

TOP_K = 3  # exemplars averaged per emotion
TEMPERATURE = 0.05  # cosine units per logit: a 0.1 similarity lead is e^2 in odds


@lru_cache(maxsize=1)
def exemplar_bank() -> tuple[np.ndarray, np.ndarray]:
    """(N, 384) exemplar embeddings and (N,) their emotion indices, computed once per process."""
    from emocast.emotion.minilm import embed

    texts, labels = [], []
    for i, emotion in enumerate(EMOTIONS):
        for sentence in EXEMPLARS[emotion]:
            texts.append(sentence)
            labels.append(i)
    return embed(texts), np.asarray(labels)


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
