"""FaceGeometry: the portrait and its 478 MediaPipe landmarks (the "face" stage's output)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

NUM_LANDMARKS = 478  # MediaPipe FaceMesh with refined irises


@dataclass
class FaceGeometry:
    """A portrait (or a crop of it) and the landmarks of its main face, in its pixel coordinates."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    landmarks: np.ndarray  # (478, 3) float32: x, y in pixels of `image`; z in the same scale (depth)
    box: tuple[float, float, float, float]  # face bounding box (x0, y0, x1, y1) in `image` pixels
    num_faces: int = 1  # faces found in the original picture (the largest is used)
    crop_box: tuple[float, float, float] | None = None  # (x0, y0, side) of this crop in the original picture
    # (left, top, right, bottom) original-picture pixels of the crop square that lay outside the photo
    # (crop_face keeps its square inside the photo: all 0 unless the photo is under 8 px)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    warnings: list[str] = field(default_factory=list)

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of `image`."""
        return self.image.shape[0], self.image.shape[1]
