"""Read a portrait photo into an upright 8-bit RGB array, whatever its file format.

Handles EXIF orientation, greyscale (8/16/32-bit), transparency (composited over a light neutral
background), CMYK JPEG, 16-bit PNG/TIFF, webp, bmp and tiff. Very large photos are downscaled so
that their longest side is at most `MAX_SIDE` pixels (JPEGs are decoded at reduced scale directly,
which is fast and light on memory): the portrait we animate never needs more, and the whole
pipeline (including --keep-frame) then works on this downscaled picture.
"""

from __future__ import annotations

import os
import struct
import warnings
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError, check_input_file

MAX_SIDE = 2048  # longest side of the working portrait, pixels; larger photos are downscaled
MIN_SIDE = 16  # shortest side of a picture we can use (before and after that downscale), pixels
BACKGROUND_RGB = (236, 236, 236)  # light neutral grey behind transparent pixels
FORMATS = "jpg, png, webp, bmp, tiff"


def load_portrait(path: str | os.PathLike, max_side: int = MAX_SIDE) -> np.ndarray:
    """Read a photo as an upright RGB image.

    Args:
        path: image file (jpg, png, webp, bmp, tiff; anything Pillow or OpenCV can decode).
        max_side: longest side of the result in pixels; larger photos are downscaled (area filter).

    Returns:
        (H, W, 3) uint8 RGB array, EXIF orientation applied.

    Raises:
        EmocastError: the file is missing, empty, not an image, or corrupt.
    """
    path = check_input_file(path, "image", empty_hint=f"; use a photo ({FORMATS})")
    from PIL import Image

    try:
        image = _load_with_pillow(path, max_side)
    except EmocastError:  # a ValueError too: keep it out of the clause below
        raise
    except Image.DecompressionBombError as e:
        raise EmocastError(f"{path.name} has too many pixels to read safely; downscale it first") from e
    except (OSError, ValueError, SyntaxError, EOFError, struct.error) as pillow_error:
        # what Pillow raises for unknown, corrupt or unsupported files; OpenCV gets a second try
        image = _load_with_opencv(path)
        if image is None:
            raise EmocastError(f"{path.name} is not an image we can read ({FORMATS})") from pillow_error
    _check_size(path, image.shape[1], image.shape[0], max_side)
    return _limit_size(image, max_side)


def _check_size(path: Path, width: int, height: int, max_side: int) -> None:
    """Refuse pictures too small, or too narrow to keep MIN_SIDE pixels once downscaled, by their file size."""
    if min(width, height) < MIN_SIDE:
        raise EmocastError(f"{path.name} is only {width}x{height} pixels; use a larger photo")
    if max(width, height) > max_side and min(width, height) * max_side / max(width, height) < MIN_SIDE:
        raise EmocastError(f"{path.name} is {width}x{height} pixels, too narrow to hold a portrait; crop it around the face")


def _load_with_pillow(path: Path, max_side: int) -> np.ndarray:
    from PIL import Image, ImageOps

    with warnings.catch_warnings():
        # up to Pillow's hard limit (~179 MP, DecompressionBombError) big photos are fine here
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        # Pillow's notes on damaged metadata ("Corrupt EXIF data", "Truncated File Read"): the
        # pixels decode, a missing orientation tag reads as upright, and there is nothing to do
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        with Image.open(path) as img:
            _check_size(path, img.width, img.height, max_side)  # before the JPEG decoder downscales it
            if img.format == "JPEG" and max(img.size) > 2 * max_side:
                # decode at 1/2, 1/4 or 1/8 scale in the JPEG decoder itself (never below max_side)
                img.draft(img.mode, (img.width * max_side // max(img.size), img.height * max_side // max(img.size)))
            img.load()
            img = ImageOps.exif_transpose(img)
            return _to_rgb8(img)


def _to_rgb8(img) -> np.ndarray:
    """Any Pillow mode -> (H, W, 3) uint8 RGB."""
    from PIL import Image

    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        grey = _scale_to_uint8(np.asarray(img))
        return np.repeat(grey[:, :, None], 3, axis=2)
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND_RGB + (255,))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    # also CMYK (Pillow undoes Adobe's inverted CMYK JPEGs when decoding), L, 1, YCbCr, LAB, HSV
    return np.asarray(img.convert("RGB"))


def _scale_to_uint8(values: np.ndarray) -> np.ndarray:
    """Integer/float greyscale or colour samples of any depth -> uint8 (full range kept)."""
    values = np.asarray(values)
    if values.dtype == np.uint8:
        return values
    if np.issubdtype(values.dtype, np.floating):
        values = np.nan_to_num(values.astype(np.float64))
        peak = 1.0 if values.max(initial=0.0) <= 1.0 else 255.0 if values.max() <= 255.0 else values.max()
        return np.clip(values / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
    peak = values.max(initial=0)
    # 16-bit files stored as I/I;16 span 0..65535; a few 8-bit PNGs come through as "I" with 0..255
    full = 255 if peak <= 255 else 65535 if peak <= 65535 else int(peak)
    return np.clip(values.astype(np.float64) / full * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _load_with_opencv(path: Path) -> np.ndarray | None:
    """Fallback decoder (e.g. 16-bit colour TIFFs that Pillow cannot open). None if it fails too."""
    import cv2

    data = np.fromfile(str(path), dtype=np.uint8)  # works with non-ASCII paths, unlike cv2.imread
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        return None
    if image.ndim == 2:
        image = image[:, :, None]
    image = _scale_to_uint8(image)
    channels = image.shape[2]
    if channels == 1:
        return np.ascontiguousarray(np.repeat(image, 3, axis=2))
    if channels == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        rgb = image[:, :, 2::-1].astype(np.float32)
        background = np.array(BACKGROUND_RGB, np.float32)
        return np.clip(rgb * alpha + background * (1 - alpha) + 0.5, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(image[:, :, 2::-1])  # BGR -> RGB


def _limit_size(image: np.ndarray, max_side: int) -> np.ndarray:
    height, width = image.shape[:2]
    if max(height, width) <= max_side:
        return np.ascontiguousarray(image)
    import cv2

    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)
