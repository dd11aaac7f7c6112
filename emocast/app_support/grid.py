"""The Compare tab's grid video: N rendered clips tiled side by side, a label under each, in sync.

The clips are decoded frame by frame in lockstep and re-encoded as one MP4 with the speech, so any
number of seconds needs only one frame per clip in memory.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from emocast.errors import EmocastError

MAX_CELLS = 4
LABEL_FRACTION = 0.11  # label strip height as a fraction of the cell height
MIN_LABEL_PX = 20  # never a label strip thinner than this (pixels)
LABEL_BACKGROUND = (24, 24, 27)
LABEL_COLOR = (240, 240, 240)
LABEL_SEPARATOR = " · "  # text after the last separator survives shortening (e.g. the intensity)


def grid_shape(num_cells: int) -> tuple[int, int]:
    """(columns, rows) for a grid of 1..4 cells: one row up to 3 cells, 2x2 for 4."""
    if not 1 <= num_cells <= MAX_CELLS:
        raise EmocastError(f"a comparison grid holds 1 to {MAX_CELLS} videos, got {num_cells}")
    columns = num_cells if num_cells <= 3 else 2
    return columns, math.ceil(num_cells / columns)


def label_height(cell_height: int) -> int:
    """Height in pixels of the label strip under a cell (even, for yuv420p)."""
    return max(MIN_LABEL_PX, int(round(cell_height * LABEL_FRACTION))) // 2 * 2


def make_grid_video(
    videos: list[str | os.PathLike],
    labels: list[str],
    out: str | os.PathLike,
    audio: str | os.PathLike | None = None,
) -> Path:
    """Tile videos into one grid MP4 with a text label under each cell, playing in sync.

    Args:
        videos: 1..4 video files; all cells take the first video's size (others are resized).
        labels: one caption per video, drawn under its cell; shortened with an ellipsis to fit,
            keeping any tail after the last " · " whole.
        out: the .mp4 to write.
        audio: the sound track; defaults to the first video's audio.

    Returns:
        The written path. The grid has as many frames as the longest clip (shorter clips hold their
        last frame) at the first clip's frame rate.
    """
    from emocast.video import VideoWriter, iter_frames, probe

    if len(videos) != len(labels):
        raise ValueError(f"{len(videos)} videos but {len(labels)} labels")
    columns, rows = grid_shape(len(videos))
    info = probe(videos[0])
    cell_w, cell_h = info.width, info.height
    strip_h = label_height(cell_h)
    width, height = columns * cell_w, rows * (cell_h + strip_h)
    strips = [render_label(label, cell_w, strip_h) for label in labels]

    canvas = np.zeros((height, width, 3), np.uint8)
    for i, strip in enumerate(strips):
        x, y = _cell_origin(i, columns, cell_w, cell_h + strip_h)
        canvas[y + cell_h : y + cell_h + strip_h, x : x + cell_w] = strip

    streams = [iter_frames(v) for v in videos]
    last: list[np.ndarray | None] = [None] * len(videos)
    fps = max(1, int(round(info.fps)))
    with VideoWriter(out, fps=fps, size=(width, height), audio_path=audio or videos[0]) as writer:
        while True:
            fresh = False
            for i, stream in enumerate(streams):
                frame = next(stream, None)
                if frame is not None:
                    last[i] = _fit(frame, cell_w, cell_h)
                    fresh = True
            if not fresh:
                break
            for i, frame in enumerate(last):
                if frame is not None:
                    x, y = _cell_origin(i, columns, cell_w, cell_h + strip_h)
                    canvas[y : y + cell_h, x : x + cell_w] = frame
            writer.write(canvas)
    return Path(out)


def render_label(text: str, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 strip with `text` centred, shortened with an ellipsis to fit."""
    from PIL import Image, ImageDraw, ImageFont

    strip = Image.new("RGB", (width, height), LABEL_BACKGROUND)
    draw = ImageDraw.Draw(strip)
    try:
        font = ImageFont.load_default(size=max(10, int(height * 0.55)))
    except (TypeError, OSError):  # Pillow without FreeType: the fixed bitmap font
        font = ImageFont.load_default()
    text = _fit_text(draw, " ".join(text.split()), font, width - 8)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = (width - (right - left)) / 2 - left
    y = (height - (bottom - top)) / 2 - top
    draw.text((x, y), text, fill=LABEL_COLOR, font=font)
    return np.asarray(strip, np.uint8)


def _fit_text(draw, text: str, font, max_width: int) -> str:
    """Shorten text with an ellipsis to fit; a tail after the last " · " (e.g. "· 80%") is kept whole."""
    if draw.textlength(text, font=font) <= max_width:
        return text
    head, sep, tail = text.rpartition(LABEL_SEPARATOR)
    if not sep:
        head, tail = text, ""
    tail = sep + tail
    while head and draw.textlength(head.rstrip() + "…" + tail, font=font) > max_width:
        head = head[:-1]
    return head.rstrip() + "…" + tail


def _cell_origin(index: int, columns: int, cell_w: int, cell_h: int) -> tuple[int, int]:
    """(x, y) pixel of a cell's top-left corner; cell_h includes its label strip."""
    return (index % columns) * cell_w, (index // columns) * cell_h


def _fit(frame: np.ndarray, width: int, height: int) -> np.ndarray:
    if frame.shape[0] == height and frame.shape[1] == width:
        return frame
    from PIL import Image

    return np.asarray(Image.fromarray(frame).resize((width, height), Image.BILINEAR), np.uint8)
