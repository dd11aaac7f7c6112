"""The shipped exemplar embeddings are current and equal what the model computes."""

import numpy as np

from emocast.emotion import classifier
from emocast.emotion.minilm import embed


def test_shipped_bank_matches_the_exemplars_and_the_model():
    texts, labels = classifier._exemplar_texts()
    with np.load(classifier.BANK_FILE) as data:
        assert str(data["key"]) == classifier.bank_key(texts), "run: python -m emocast.emotion.classifier"
        shipped = data["embeddings"]
    assert shipped.shape == (len(texts), 384)
    rows = np.random.default_rng(0).choice(len(texts), size=6, replace=False)
    fresh = embed([texts[i] for i in rows])
    assert np.allclose(shipped[rows], fresh, atol=1e-4)


def test_stale_bank_is_recomputed(tmp_path, monkeypatch):
    stale = tmp_path / "bank.npz"
    np.savez(stale, key=np.asarray("stale"), embeddings=np.zeros((1, 384), np.float32))
    monkeypatch.setattr(classifier, "BANK_FILE", stale)
    classifier.exemplar_bank.cache_clear()
    try:
        bank, labels = classifier.exemplar_bank()
        assert bank.shape[0] == len(labels) and np.allclose(np.linalg.norm(bank, axis=1), 1, atol=1e-3)
    finally:
        classifier.exemplar_bank.cache_clear()
