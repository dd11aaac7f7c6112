"""Emotion-FAN (Meng et al., ICIP 2019, "Frame attention networks for facial expression
recognition in videos"): the classifier EmoCAST reports its emotion accuracy with.

A plug-in judge for `emotion_classifier.get_classifier("emotion-fan")`: the user supplies the
weights (the authors' ResNet-18 frame-attention checkpoint, a `.pth.tar` with a `state_dict`) in
$EMOCAST_EMOTION_FAN_WEIGHTS; nothing is downloaded. Per frame, the face (224x224 RGB, 0..1) goes
through ResNet-18; with one frame, the frame and the video feature coincide, so the relation-
attention head sees [f, f]. Class order: $EMOCAST_EMOTION_FAN_LABELS (comma-separated), default
the AFEW order the authors train with.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError

WEIGHTS_ENV = "EMOCAST_EMOTION_FAN_WEIGHTS"
LABELS_ENV = "EMOCAST_EMOTION_FAN_LABELS"
AFEW_LABELS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
INPUT_SIDE = 224  # pixels


def _resnet18_at():
    import torch
    import torch.nn as nn

    class BasicBlock(nn.Module):
        def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

        def forward(self, x):
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + identity)

    class ResNetAT(nn.Module):
        """The authors' `resnet18_AT` (same parameter names), inference path only."""

        def __init__(self, num_classes: int = 7) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            layers, inplanes = [], 64
            for planes, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers.append(nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes)))
                inplanes = planes
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.alpha = nn.Sequential(nn.Linear(512, 1), nn.Sigmoid())
            self.beta = nn.Sequential(nn.Linear(1024, 1), nn.Sigmoid())
            self.pred_fc1 = nn.Linear(512, num_classes)
            self.pred_fc2 = nn.Linear(1024, num_classes)

        def features(self, x):  # (N, 3, 224, 224) -> (N, 512)
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.avgpool(x).flatten(1)

        def forward(self, frames):  # (N, 3, 224, 224) frames of one video -> (num_classes,) logits
            f = self.features(frames)
            alpha = self.alpha(f)  # (N, 1) self-attention weights
            video = (alpha * f).sum(0, keepdim=True) / alpha.sum()
            joint = torch.cat([f, video.expand_as(f)], dim=1)  # (N, 1024)
            beta = self.beta(joint)  # (N, 1) relation-attention weights
            pooled = (alpha * beta * joint).sum(0) / (alpha * beta).sum()
            return self.pred_fc2(pooled)

    return ResNetAT


class EmotionFanClassifier:
    """Emotion-FAN with user-supplied weights, behind the `EmotionClassifier` protocol."""

    name = "emotion-fan"

    def __init__(self, weights: str | os.PathLike | None = None) -> None:
        weights = weights or os.environ.get(WEIGHTS_ENV)
        if not weights:
            raise EmocastError(f"Emotion-FAN needs its weights: set {WEIGHTS_ENV} to the authors' .pth.tar checkpoint")
        if not Path(weights).is_file():
            raise EmocastError(f"Emotion-FAN weights {weights} not found; check {WEIGHTS_ENV}")
        try:
            import torch
        except ImportError as e:
            raise EmocastError("Emotion-FAN needs torch: pip install torch") from e
        labels = os.environ.get(LABELS_ENV)
        self.labels = tuple(s.strip().lower() for s in labels.split(",")) if labels else AFEW_LABELS
        state = torch.load(str(weights), map_location="cpu", weights_only=False)
        state = state.get("state_dict", state)
        state = {k.removeprefix("module."): v for k, v in state.items()}
        self.model = _resnet18_at()(num_classes=len(self.labels))
        missing, _ = self.model.load_state_dict(state, strict=False)
        if missing:
            raise EmocastError(f"{weights} does not fit Emotion-FAN's ResNet-18: {len(missing)} weights missing (e.g. {missing[0]})")
        self.model.eval()

    def predict(self, face_rgb: np.ndarray) -> np.ndarray:
        """Probabilities over `labels` for one (S, S, 3) uint8 face crop."""
        return self.predict_video([face_rgb])

    def predict_video(self, faces_rgb: list[np.ndarray]) -> np.ndarray:
        """Probabilities over `labels` for the frames of one video, with frame attention."""
        import cv2
        import torch

        x = np.stack([cv2.resize(f, (INPUT_SIDE, INPUT_SIDE), interpolation=cv2.INTER_AREA) for f in faces_rgb])
        x = torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255.0  # (N, 3, 224, 224)
        with torch.no_grad():
            logits = self.model(x.to(next(self.model.parameters()).dtype))
        return torch.softmax(logits, dim=-1).cpu().numpy()
