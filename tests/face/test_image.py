"""load_portrait on every kind of file a user may drop in."""

import cv2
import numpy as np
import pytest
from PIL import Image

from emocast.errors import EmocastError
from emocast.face.image import BACKGROUND_RGB, MAX_SIDE, load_portrait


@pytest.fixture(scope="module")
def speaker_rgb(portraits) -> np.ndarray:
    return portraits["speaker"]


def test_jpeg_is_rgb_uint8(portraits):
    for image in portraits.values():
        assert image.shape == (512, 512, 3) and image.dtype == np.uint8
        assert image.flags.c_contiguous


@pytest.mark.parametrize("suffix", ["png", "webp", "bmp", "tiff"])
def test_lossless_formats_round_trip(tmp_path, speaker_rgb, suffix):
    path = tmp_path / f"portrait.{suffix}"
    kwargs = {"lossless": True} if suffix == "webp" else {}
    Image.fromarray(speaker_rgb).save(path, **kwargs)
    assert np.array_equal(load_portrait(path), speaker_rgb)


@pytest.mark.parametrize("orientation, transpose", [(3, Image.Transpose.ROTATE_180), (6, Image.Transpose.ROTATE_90), (8, Image.Transpose.ROTATE_270)])
def test_exif_orientation_is_applied(tmp_path, speaker_rgb, orientation, transpose):
    stored = Image.fromarray(speaker_rgb[:, :400]).transpose(transpose)  # non-square: catches swapped axes
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.png"
    stored.save(path, exif=exif)
    assert np.array_equal(load_portrait(path), speaker_rgb[:, :400])


def test_greyscale_8_and_16_bit(tmp_path, speaker_rgb):
    grey = cv2.cvtColor(speaker_rgb, cv2.COLOR_RGB2GRAY)
    Image.fromarray(grey).save(tmp_path / "grey.png")
    rng = np.random.default_rng(0)
    grey16 = grey.astype(np.uint16) * 257 + rng.integers(0, 128, grey.shape, dtype=np.uint16)
    cv2.imwrite(str(tmp_path / "grey16.png"), grey16)
    for name in ("grey.png", "grey16.png"):
        image = load_portrait(tmp_path / name)
        assert image.shape == (512, 512, 3) and image.dtype == np.uint8
        assert np.array_equal(image[..., 0], image[..., 2])
        assert np.abs(image[..., 0].astype(int) - grey).max() <= 1, name


def test_16_bit_rgb_png_and_tiff(tmp_path, speaker_rgb):
    rgb16 = speaker_rgb.astype(np.uint16) * 257
    for name in ("rgb16.png", "rgb16.tiff"):
        cv2.imwrite(str(tmp_path / name), rgb16[..., ::-1])
        image = load_portrait(tmp_path / name)
        assert image.dtype == np.uint8 and np.abs(image.astype(int) - speaker_rgb).max() <= 1, name


def test_transparency_is_composited_over_light_background(tmp_path, speaker_rgb):
    alpha = np.full(speaker_rgb.shape[:2], 255, np.uint8)
    alpha[:100, :100] = 0
    Image.fromarray(np.dstack([speaker_rgb, alpha])).save(tmp_path / "rgba.png")
    palette = Image.fromarray(speaker_rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    palette_index = palette.getpixel((10, 10))
    palette.save(tmp_path / "palette.png", transparency=palette_index)
    la = Image.fromarray(np.dstack([cv2.cvtColor(speaker_rgb, cv2.COLOR_RGB2GRAY), alpha]), "LA")
    la.save(tmp_path / "la.png")
    for name in ("rgba.png", "palette.png", "la.png"):
        image = load_portrait(tmp_path / name)
        assert image.shape == (512, 512, 3)
        assert tuple(image[10, 10]) == BACKGROUND_RGB, name
    assert np.array_equal(load_portrait(tmp_path / "rgba.png")[200:], speaker_rgb[200:])


def test_cmyk_jpeg(tmp_path, speaker_rgb):
    Image.fromarray(speaker_rgb).convert("CMYK").save(tmp_path / "cmyk.jpg", quality=95)
    image = load_portrait(tmp_path / "cmyk.jpg")
    assert image.shape == (512, 512, 3)
    assert np.abs(image.astype(float) - speaker_rgb).mean() < 6  # colours, not inverted


def test_big_pictures_are_downscaled(tmp_path, speaker_rgb):
    # JPEGs more than twice max_side are decoded at reduced scale, then area-resized
    big = cv2.resize(speaker_rgb, (1800, 1350), interpolation=cv2.INTER_LINEAR)
    Image.fromarray(big).save(tmp_path / "big.jpg", quality=90)
    image = load_portrait(tmp_path / "big.jpg", max_side=400)
    assert image.shape == (300, 400, 3)
    expected = cv2.resize(speaker_rgb, (400, 300), interpolation=cv2.INTER_AREA)
    assert np.abs(image.astype(float) - expected).mean() < 4
    # other formats: resized after decoding, to MAX_SIDE by default
    wide = np.zeros((600, MAX_SIDE + 500, 3), np.uint8)
    Image.fromarray(wide).save(tmp_path / "wide.bmp")
    assert load_portrait(tmp_path / "wide.bmp").shape == (round(600 * MAX_SIDE / (MAX_SIDE + 500)), MAX_SIDE, 3)


def test_bad_files_raise_one_line_errors(tmp_path, portrait_paths):
    (tmp_path / "notes.jpg").write_text("this is not a picture\n")
    (tmp_path / "empty.png").write_bytes(b"")
    data = portrait_paths["speaker"].read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(data[: len(data) // 3])
    (tmp_path / "random.png").write_bytes(np.random.default_rng(0).bytes(5000))
    for name in ("notes.jpg", "empty.png", "truncated.jpg", "random.png", "missing.jpg"):
        with pytest.raises(EmocastError) as error:
            load_portrait(tmp_path / name)
        assert "\n" not in str(error.value)
    with pytest.raises(EmocastError, match="is not an image we can read"):
        load_portrait(tmp_path / "notes.jpg")
    with pytest.raises(EmocastError, match="does not exist"):
        load_portrait(tmp_path / "missing.jpg")


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_too_narrow_picture_is_named_by_its_own_size(tmp_path, suffix):
    # downscaled to 2048 px it would be 3 px high: say what the file is, not what it became
    Image.fromarray(np.full((16, 10000, 3), 128, np.uint8)).save(tmp_path / f"strip{suffix}")
    with pytest.raises(EmocastError, match=r"is 10000x16 pixels, too narrow to hold a portrait"):
        load_portrait(tmp_path / f"strip{suffix}")


def test_damaged_exif_is_read_without_warnings(tmp_path, portrait_paths):
    import struct
    import warnings

    exif = Image.Exif()
    exif[0x010E] = "x" * 200  # ImageDescription, then its byte count is made to overrun the block
    exif[0x0112] = 1
    data = bytearray(exif.tobytes())
    at = data.find(struct.pack(">H", 0x010E))
    data[at + 4 : at + 8] = struct.pack(">I", 100000)
    Image.open(portrait_paths["speaker"]).save(tmp_path / "damaged.jpg", exif=bytes(data))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's "Truncated File Read" would land in the CLI's progress line
        image = load_portrait(tmp_path / "damaged.jpg")
    assert image.shape == (512, 512, 3)
