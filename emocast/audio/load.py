"""Decode any speech recording to 16 kHz mono float32 (the AudioTrack every later step uses).

PyAV decodes and resamples in one streaming pass (wav, mp3, flac, ogg vorbis/opus, m4a/aac,
webm/opus from a browser microphone, and the sound of a video). When PyAV is missing or fails on a
file, the ffmpeg binary that ships with imageio-ffmpeg is tried before giving up.
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import numpy as np

from emocast.audio.track import SAMPLE_RATE, AudioTrack
from emocast.errors import EmocastError, check_input_file

logger = logging.getLogger(__name__)

DEFAULT_MAX_SECONDS = 600.0  # 10 minutes, the same default as GenerateOptions.max_audio_seconds
SUPPORTED_SUFFIXES = (
    ".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".webm",
    ".weba", ".mkv", ".mka", ".mov", ".aif", ".aiff", ".wma", ".amr", ".3gp",
)  # fmt: skip
FORMATS_HINT = "wav, mp3, flac, ogg, m4a/aac or webm"
_FFMPEG_TIMEOUT_S = 600


def load_audio(path: str | os.PathLike, max_seconds: float = DEFAULT_MAX_SECONDS) -> AudioTrack:
    """Decode a speech file to mono float32 samples in [-1, 1] at 16 kHz.

    Args:
        path: the recording (any format FFmpeg reads; the first audio stream is used).
        max_seconds: longer audio is refused (seconds); the CLI's --max-audio-seconds.

    Returns:
        AudioTrack with samples (N,) float32 at SAMPLE_RATE; silence is valid audio.

    Raises:
        EmocastError: missing/empty/unreadable file, no audio stream, unsupported format,
            audio longer than max_seconds, or no samples at all.
    """
    path = _check_path(path)
    try:
        samples = _decode_pyav(path, max_seconds)
    except ImportError:
        logger.info("PyAV is not installed; decoding %s with the ffmpeg binary", path.name)
        samples = _decode_ffmpeg(path, max_seconds)
    except _DecodeFailed as pyav_error:
        try:
            samples = _decode_ffmpeg(path, max_seconds)
        except _DecodeFailed:
            raise _decode_error(path, str(pyav_error)) from pyav_error
    if samples.size == 0:
        raise EmocastError(f"audio file {path.name} decodes to no samples; record some speech and try again")
    samples = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0)
    np.clip(samples, -1.0, 1.0, out=samples)
    return AudioTrack(samples=samples.astype(np.float32, copy=False), sample_rate=SAMPLE_RATE, source=path)


class _DecodeFailed(Exception):
    """Internal: this decoder could not read the file (the reason is the message)."""


def _check_path(path: str | os.PathLike) -> Path:
    return check_input_file(path, "audio", empty_hint=" (0 bytes)")


def _too_long(path: Path, max_seconds: float) -> EmocastError:
    return EmocastError(
        f"audio {path.name} is longer than the limit of {max_seconds:g} s; "
        f"cut it or raise the limit with --max-audio-seconds"
    )


def _decode_error(path: Path, reason: str) -> EmocastError:
    if reason.startswith("no audio stream"):
        return EmocastError(f"{path.name} has no audio stream (is it an image or a silent video?); give a speech recording")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return EmocastError(f"unsupported audio format {path.suffix or '(no extension)'!r} for {path.name}; use {FORMATS_HINT}")
    reason = reason.splitlines()[0][:120] if reason else "unknown error"
    return EmocastError(f"cannot decode audio file {path.name}: it is damaged or not audio ({reason}); use {FORMATS_HINT}")


def _decode_pyav(path: Path, max_seconds: float) -> np.ndarray:
    """Stream-decode the first audio stream with PyAV, resampling to 16 kHz mono float32."""
    import av

    max_samples = int(round(max_seconds * SAMPLE_RATE))
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise _DecodeFailed(str(e)) from e
    with container:
        if not container.streams.audio:
            raise _DecodeFailed("no audio stream")
        stream = container.streams.audio[0]
        # no refusal on the header's duration: a truncated recording keeps its full-length header
        # (an MP3's Xing frame count); the limit holds while decoding, which never holds more than it
        # keep the channel layout and average the channels ourselves: FFmpeg's downmix adds 3 dB
        # to identical channels, which clips loud "stereo" recordings of one microphone
        resampler = av.AudioResampler(format="flt", layout=None, rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                frame.pts = None  # resample by sample count; broken timestamps must not add gaps
                for out in resampler.resample(frame):
                    chunk = _to_mono(out)
                    chunks.append(chunk)
                    total += chunk.size
                if total > max_samples:
                    raise _too_long(path, max_seconds)
            for out in resampler.resample(None):
                chunks.append(_to_mono(out))
        except av.FFmpegError as e:
            if total == 0:
                raise _DecodeFailed(str(e)) from e
            # A truncated tail (an interrupted recording) still gives usable audio.
            logger.warning("audio %s is truncated (%s); using the %.1f s decoded", path.name, e, total / SAMPLE_RATE)
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if samples.size > max_samples:
        raise _too_long(path, max_seconds)
    return samples.astype(np.float32, copy=False)


def _to_mono(frame) -> np.ndarray:
    """(samples,) float32 mean over the channels of a packed float AudioFrame."""
    channels = max(1, frame.layout.nb_channels)
    interleaved = frame.to_ndarray().reshape(-1, channels)  # (samples, channels)
    return interleaved[:, 0].copy() if channels == 1 else interleaved.mean(axis=1, dtype=np.float32)


def _decode_ffmpeg(path: Path, max_seconds: float) -> np.ndarray:
    """Decode with the ffmpeg binary of imageio-ffmpeg (raw f32le on stdout)."""
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as e:
        raise _DecodeFailed(f"no ffmpeg available: {e}") from e
    cmd = [
        exe, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0", "-vn", "-ac", "1",
        "-ar", str(SAMPLE_RATE), "-t", f"{max_seconds + 1.0:.3f}", "-f", "f32le", "-",
    ]  # fmt: skip
    try:
        result = subprocess.run(cmd, capture_output=True, timeout=_FFMPEG_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise _DecodeFailed(str(e)) from e
    err = result.stderr.decode("utf-8", "replace").strip()
    if result.returncode != 0:
        if "matches no streams" in err:
            raise _DecodeFailed("no audio stream")
        raise _DecodeFailed(err.splitlines()[-1] if err else f"ffmpeg exit code {result.returncode}")
    samples = np.frombuffer(result.stdout, dtype="<f4").astype(np.float32)
    if samples.size > int(round(max_seconds * SAMPLE_RATE)):
        raise _too_long(path, max_seconds)
    return samples
