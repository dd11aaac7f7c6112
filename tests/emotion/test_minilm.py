"""The NumPy MiniLM matches sentence-transformers' all-MiniLM-L6-v2."""

from pathlib import Path

import numpy as np

from emocast.emotion.minilm import embed

# Made once with sentence-transformers (torch) on the same texts:
#   SentenceTransformer(str(model_dir()), device="cpu").encode(TEXTS)
REFERENCE = Path(__file__).parent / "data" / "minilm_reference.npy"
TEXTS = [
    "brows slammed down, lips pressed tight",
    "she just opened the envelope and learned she got in",
    "😢 not happy at all",
]


def test_numpy_minilm_matches_sentence_transformers():
    reference = np.load(REFERENCE)
    ours = embed(TEXTS)
    assert ours.shape == (3, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() > 0.999


def test_batch_padding_does_not_change_embeddings():
    alone = embed([TEXTS[0]])
    batched = embed([TEXTS[0], TEXTS[1] + " and then some much longer text to force padding"])
    assert float(alone[0] @ batched[0]) > 0.9999
