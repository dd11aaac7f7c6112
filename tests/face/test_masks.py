"""region_masks: shapes, ranges and which parts of the face each mask covers."""

import numpy as np
import pytest

from emocast.face import landmarks as lm
from emocast.face.crop import crop_face
from emocast.face.masks import region_masks


@pytest.mark.parametrize("name", ["astronaut", "speaker"])
@pytest.mark.parametrize("size", [64, 512])
def test_masks_cover_their_regions(faces, name, size):
    crop = crop_face(faces[name], size)
    masks = region_masks(crop.landmarks, (size, size))
    assert set(masks) == {"lip", "expression", "pose"}
    for mask in masks.values():
        assert mask.shape == (size, size) and mask.dtype == np.float32
        assert 0.0 <= mask.min() and mask.max() <= 1.0

    def at(mask, ids):
        xy = np.clip(crop.landmarks[list(ids), :2].astype(int), 0, size - 1)
        return mask[xy[:, 1], xy[:, 0]]

    lip, expression, pose = masks["lip"], masks["expression"], masks["pose"]
    assert at(lip, lm.LIPS).min() > 0.9
    assert at(lip, lm.LEFT_EYE + lm.RIGHT_EYE).max() < 0.05
    assert at(expression, lm.LEFT_EYE + lm.RIGHT_EYE + lm.LEFT_BROW + lm.RIGHT_BROW + lm.LIPS + lm.NOSE).min() > 0.9
    assert at(pose, range(478)).min() > 0.9
    # nested: the pose region is larger than the face, which is larger than the lip region
    assert lip.sum() < expression.sum() < pose.sum()
    assert pose[0].max() > 0.5  # reaches the hair at the top of the crop
    # feathered: there are values strictly between 0 and 1
    assert ((expression > 0.05) & (expression < 0.95)).sum() > 4 * size * 0.1


def test_masks_follow_non_square_shapes(faces):
    face = faces["speaker"]
    masks = region_masks(face.landmarks, (512, 700))
    assert masks["lip"].shape == (512, 700)
    assert masks["lip"][:, 520:].max() == 0.0  # nothing right of the face
