"""SyncNet LSE-D / LSE-C (Chung & Zisserman 2016; the lip-sync scores of Wav2Lip and EmoCAST).

Runs only when the user supplies SyncNet's weights (joonson/syncnet_python's `syncnet_v2.model`,
a state dict for the network below) in $EMOCAST_SYNCNET_WEIGHTS and torch is installed; nothing
is downloaded. Follows syncnet_python's evaluation: 224x224 face crops, 5-frame windows, 13 MFCCs
at 100 Hz (20 per window), embedding distances over offsets of +-15 frames; LSE-D is the mean
distance at the best offset, LSE-C the median distance minus that minimum.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError
from emocast.evaluation.user_weights import user_weights_reason

SYNCNET_ENV = "EMOCAST_SYNCNET_WEIGHTS"
VSHIFT = 15  # frames searched each side
CROP_SIDE = 224  # pixels
CROP_SCALE = 1.4  # face box enlargement, like syncnet_python's crop_scale 0.4
WINDOW = 5  # video frames per embedding (0.2 s at 25 fps)


def syncnet_unavailable_reason() -> str | None:
    """Why SyncNet cannot run here, or None when it can."""
    return user_weights_reason(
        SYNCNET_ENV,
        missing=f"needs SyncNet weights: set {SYNCNET_ENV} to syncnet_python's syncnet_v2.model",
        module="torch",
        install="SyncNet needs torch: pip install torch",
    )


def mfcc(samples: np.ndarray, rate: int = 16000, num_ceps: int = 13) -> np.ndarray:
    """(T, 13) MFCCs at 100 Hz like python_speech_features.mfcc's defaults.

    25 ms Hamming-free (rectangular) windows, 10 ms hop, pre-emphasis 0.97, 512-point FFT,
    26 mel filters, DCT-II (ortho), lifter 22, first coefficient replaced by log frame energy.
    """
    from scipy.fft import dct

    signal = np.append(samples[0], samples[1:] - 0.97 * samples[:-1]).astype(np.float64)
    frame_len, hop, nfft = int(0.025 * rate), int(0.01 * rate), 512
    num = 1 + max(0, int(np.ceil((len(signal) - frame_len) / hop)))
    signal = np.pad(signal, (0, (num - 1) * hop + frame_len - len(signal)))
    idx = np.arange(frame_len)[None] + hop * np.arange(num)[:, None]
    power = np.abs(np.fft.rfft(signal[idx], nfft)) ** 2 / nfft  # (T, 257)
    energy = np.where(power.sum(1) == 0, np.finfo(float).eps, power.sum(1))
    mel = lambda hz: 2595 * np.log10(1 + hz / 700.0)  # noqa: E731
    hz = lambda m: 700 * (10 ** (m / 2595.0) - 1)  # noqa: E731
    bins = np.floor((nfft + 1) * hz(np.linspace(mel(0), mel(rate / 2), 28)) / rate).astype(int)
    bank = np.zeros((26, nfft // 2 + 1))
    for j in range(26):
        a, b, c = bins[j], bins[j + 1], bins[j + 2]
        bank[j, a:b] = (np.arange(a, b) - a) / max(b - a, 1)
        bank[j, b:c] = (c - np.arange(b, c)) / max(c - b, 1)
    feat = np.log(np.where(power @ bank.T == 0, np.finfo(float).eps, power @ bank.T))
    ceps = dct(feat, type=2, axis=1, norm="ortho")[:, :num_ceps]
    ceps *= 1 + (22 / 2.0) * np.sin(np.pi * np.arange(num_ceps) / 22)
    ceps[:, 0] = np.log(energy)
    return ceps.astype(np.float32)


def _build_network():
    import torch.nn as nn

    def fc():
        return nn.Sequential(nn.Linear(512, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 1024))

    class SyncNet(nn.Module):
        """syncnet_python's SyncNetModel.S (same parameter names)."""

        def __init__(self) -> None:
            super().__init__()
            self.netcnnaud = nn.Sequential(
                nn.Conv2d(1, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(1, 1),
                nn.Conv2d(64, 192, 3, 1, 1), nn.BatchNorm2d(192), nn.ReLU(inplace=True), nn.MaxPool2d(3, (1, 2)),
                nn.Conv2d(192, 384, 3, padding=1), nn.BatchNorm2d(384), nn.ReLU(inplace=True),
                nn.Conv2d(384, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(inplace=True),
                nn.Conv2d(256, 256, 3, padding=1), nn.BatchNorm2d(256), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2),
                nn.Conv2d(256, 512, (5, 4), padding=0), nn.BatchNorm2d(512), nn.ReLU(),
            )
            self.netfcaud = fc()
            self.netfclip = fc()
            self.netcnnlip = nn.Sequential(
                nn.Conv3d(3, 96, (5, 7, 7), (1, 2, 2), 0), nn.BatchNorm3d(96), nn.ReLU(inplace=True),
                nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
                nn.Conv3d(96, 256, (1, 5, 5), (1, 2, 2), (0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1)),
                nn.Conv3d(256, 256, (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.Conv3d(256, 256, (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.Conv3d(256, 256, (1, 3, 3), padding=(0, 1, 1)), nn.BatchNorm3d(256), nn.ReLU(inplace=True),
                nn.MaxPool3d((1, 3, 3), (1, 2, 2)),
                nn.Conv3d(256, 512, (1, 6, 6), padding=0), nn.BatchNorm3d(512), nn.ReLU(inplace=True),
            )

        def forward_aud(self, x):  # (B, 1, 13, 20) -> (B, 1024)
            return self.netfcaud(self.netcnnaud(x).flatten(1))

        def forward_lip(self, x):  # (B, 3, 5, 224, 224) -> (B, 1024)
            return self.netfclip(self.netcnnlip(x).flatten(1))

    return SyncNet()


@functools.lru_cache(maxsize=1)
def _network(path: str):
    import torch

    net = _build_network()
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    state = {k.removeprefix("module.").removeprefix("__S__."): v for k, v in state.items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing:
        raise EmocastError(f"{path} is not a SyncNet checkpoint: {len(missing)} weights missing (e.g. {missing[0]})")
    return net.eval()


def syncnet_scores(video: Path, batch_size: int = 20) -> dict:
    """LSE-D, LSE-C and the offset of one video (needs $EMOCAST_SYNCNET_WEIGHTS)."""
    import cv2
    import torch

    from emocast.evaluation.landmarks import track_landmarks
    from emocast.evaluation.lipsync import read_audio
    from emocast.video import iter_frames, probe

    reason = syncnet_unavailable_reason()
    if reason:
        return {"value": None, "reason": reason}
    fps = probe(video).fps
    if abs(fps - 25) > 0.5:
        return {"value": None, "reason": f"SyncNet expects 25 fps video, this one is {fps:g}"}
    samples = read_audio(video)
    if samples is None or samples.size == 0:
        return {"value": None, "reason": "the video has no audio track"}
    crops, last = [], None
    for frame, face in track_landmarks(iter_frames(video)):
        box = face.box if face is not None else last
        if box is None:
            return {"value": None, "reason": "no face at the start of the video"}
        last = box
        cx, cy, side = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2, (box[2] - box[0]) * CROP_SCALE
        m = np.array([[CROP_SIDE / side, 0, CROP_SIDE / 2 - cx * CROP_SIDE / side], [0, CROP_SIDE / side, CROP_SIDE / 2 - cy * CROP_SIDE / side]])
        crops.append(cv2.warpAffine(frame[:, :, ::-1], m, (CROP_SIDE, CROP_SIDE), borderMode=cv2.BORDER_CONSTANT))  # BGR like cv2 in syncnet_python
    ceps = mfcc(samples).T  # (13, T) at 100 Hz
    num = min(len(crops), ceps.shape[1] // 4) - WINDOW + 1
    if num < 2 * VSHIFT:
        return {"value": None, "reason": f"video too short for SyncNet ({num + WINDOW - 1} frames)"}
    net = _network(os.environ[SYNCNET_ENV])
    video_t = torch.from_numpy(np.stack(crops)).float().permute(3, 0, 1, 2)  # (3, F, 224, 224)
    audio_t = torch.from_numpy(ceps).float()
    lip_feats, aud_feats = [], []
    with torch.no_grad():
        for start in range(0, num, batch_size):
            idx = range(start, min(num, start + batch_size))
            lip = torch.stack([video_t[:, i : i + WINDOW] for i in idx])  # (B, 3, 5, 224, 224)
            aud = torch.stack([audio_t[None, :, i * 4 : i * 4 + 20] for i in idx])  # (B, 1, 13, 20)
            lip_feats.append(net.forward_lip(lip))
            aud_feats.append(net.forward_aud(aud))
    lip_f, aud_f = torch.cat(lip_feats), torch.cat(aud_feats)
    padded = torch.nn.functional.pad(aud_f, (0, 0, VSHIFT, VSHIFT))
    dists = torch.stack(
        [torch.nn.functional.pairwise_distance(lip_f[i : i + 1].repeat(2 * VSHIFT + 1, 1), padded[i : i + 2 * VSHIFT + 1]) for i in range(len(lip_f))]
    )  # (N, 2 * VSHIFT + 1)
    mean_dist = dists.mean(0)
    min_dist, min_idx = torch.min(mean_dist, 0)
    return {
        "lse_d": round(float(min_dist), 4),
        "lse_c": round(float(torch.median(mean_dist) - min_dist), 4),
        "offset_frames": int(VSHIFT - int(min_idx)),
    }
