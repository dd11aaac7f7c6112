"""Image quality: Frechet Inception Distance (Heusel et al. 2017) between real and generated frames.

FID needs Inception-v3 weights, which nothing here downloads. Point $EMOCAST_FID_INCEPTION at a
TorchScript Inception feature extractor (NVIDIA's `inception-2015-12-05.pt` from StyleGAN/clean-fid,
which returns 2048-d pool features with `return_features=True`, or any TorchScript module mapping
(N, 3, 299, 299) floats in 0..255 to (N, 2048) features). Without it, FID is reported unavailable
with that reason, never estimated another way.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from emocast.errors import EmocastError
from emocast.evaluation.user_weights import user_weights_reason

INCEPTION_ENV = "EMOCAST_FID_INCEPTION"
INCEPTION_SIDE = 299  # pixels


def fid_unavailable_reason() -> str | None:
    """Why FID cannot be computed here, or None when it can."""
    return user_weights_reason(
        INCEPTION_ENV,
        missing=f"needs Inception weights: set {INCEPTION_ENV} to a TorchScript Inception (inception-2015-12-05.pt)",
        module="torch",
        install="FID needs torch: pip install torch",
    )


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)), with the usual eps fix for singular products."""
    from scipy import linalg

    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * 1e-6
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"imaginary component {np.max(np.abs(covmean.imag))} in sqrtm")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of (N, D) features."""
    features = np.asarray(features, np.float64)
    return features.mean(0), np.cov(features, rowvar=False)


@functools.lru_cache(maxsize=1)
def _inception(path: str):
    import torch

    model = torch.jit.load(path, map_location="cpu").eval()
    return model


def inception_features(frames: list[np.ndarray], batch_size: int = 16) -> np.ndarray:
    """(N, 2048) Inception pool features of (H, W, 3) uint8 RGB frames (needs $EMOCAST_FID_INCEPTION)."""
    import cv2
    import torch

    reason = fid_unavailable_reason()
    if reason:
        raise EmocastError(reason)
    model = _inception(os.environ[INCEPTION_ENV])
    out = []
    for start in range(0, len(frames), batch_size):
        batch = [cv2.resize(f, (INCEPTION_SIDE, INCEPTION_SIDE), interpolation=cv2.INTER_AREA) for f in frames[start : start + batch_size]]
        x = torch.from_numpy(np.stack(batch)).permute(0, 3, 1, 2).float()  # (B, 3, 299, 299), 0..255
        with torch.no_grad():
            try:
                feats = model(x, return_features=True)
            except (RuntimeError, TypeError):
                feats = model(x)
        out.append(feats.reshape(len(batch), -1).cpu().numpy())
    return np.concatenate(out)


def fid(real_frames: list[np.ndarray], fake_frames: list[np.ndarray]) -> dict:
    """FID between two frame sets, or {"value": None, "reason": ...} when it cannot be computed."""
    reason = fid_unavailable_reason()
    if reason is None and min(len(real_frames), len(fake_frames)) < 2:
        reason = "FID needs at least 2 real and 2 generated frames (give a reference video, not one image)"
    if reason:
        return {"value": None, "reason": reason}
    real, fake = inception_features(real_frames), inception_features(fake_frames)
    value = frechet_distance(*feature_statistics(real), *feature_statistics(fake))
    return {"value": round(value, 3), "real_frames": len(real_frames), "generated_frames": len(fake_frames)}
