"""load_audio: every container/codec a user or a browser produces, resampling, and every user error."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from emocast.audio.load import _decode_ffmpeg, load_audio
from emocast.audio.track import SAMPLE_RATE
from emocast.errors import EmocastError
from tests.audio.conftest import ffmpeg, write_wav

FORMATS = {
    "wav": ["-c:a", "pcm_s16le"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis"],
    "opus": ["-c:a", "libopus", "-f", "ogg"],  # ogg/opus
    "m4a": ["-c:a", "aac", "-b:a", "96k"],
    "aac": ["-c:a", "aac", "-b:a", "96k"],  # raw ADTS
    "webm": ["-c:a", "libopus"],  # what MediaRecorder in a browser makes
}


@pytest.mark.parametrize("ext", sorted(FORMATS))
def test_decodes_format(ext, speech_wav, tmp_path):
    reference, rate = sf.read(str(speech_wav), dtype="float32")
    encoded = tmp_path / f"speech.{ext}"
    ffmpeg("-i", str(speech_wav), "-ar", "48000" if ext in ("opus", "webm") else str(rate), *FORMATS[ext], str(encoded))
    track = load_audio(encoded)
    assert track.sample_rate == SAMPLE_RATE
    assert track.samples.dtype == np.float32 and track.samples.ndim == 1
    assert np.abs(track.samples).max() <= 1.0
    # codecs add at most a few tens of ms of priming/padding
    assert abs(track.duration - len(reference) / rate) < 0.08
    # same loudness as the source (within 2 dB)
    rms_db = lambda x: 20 * np.log10(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert abs(rms_db(track.samples) - rms_db(reference)) < 2.0


def test_stereo_48k_becomes_mono_16k(tmp_path):
    t = np.arange(48000) / 48000.0
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 440 * t)], axis=1)
    path = tmp_path / "stereo.wav"
    sf.write(str(path), stereo.astype(np.float32), 48000)
    track = load_audio(path)
    assert len(track.samples) == pytest.approx(SAMPLE_RATE, abs=20)
    assert np.sqrt(np.mean(track.samples**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


def test_resampling_keeps_frequency(tmp_path):
    rate = 44100
    t = np.arange(2 * rate) / rate
    path = write_wav(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 1000.0 * t), rate)
    samples = load_audio(path).samples
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    peak_hz = np.argmax(spectrum) * SAMPLE_RATE / len(samples)
    assert peak_hz == pytest.approx(1000.0, abs=2.0)
    # no aliasing or imaging: nearly all energy at the tone
    band = np.abs(np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE) - 1000.0) < 20
    assert (spectrum[band] ** 2).sum() / (spectrum**2).sum() > 0.99


def test_ffmpeg_binary_fallback_matches_pyav(speech_wav, tmp_path):
    mp3 = tmp_path / "speech.mp3"
    ffmpeg("-i", str(speech_wav), "-c:a", "libmp3lame", str(mp3))
    by_pyav = load_audio(mp3).samples
    by_binary = _decode_ffmpeg(mp3, max_seconds=600.0)
    assert abs(len(by_pyav) - len(by_binary)) < 0.03 * SAMPLE_RATE
    n = min(len(by_pyav), len(by_binary))
    assert np.corrcoef(by_pyav[:n], by_binary[:n])[0, 1] > 0.9


def test_silence_is_valid(tmp_path):
    track = load_audio(write_wav(tmp_path / "silence.wav", np.zeros(16000), 16000))
    assert track.duration == pytest.approx(1.0) and not track.samples.any()


@pytest.mark.parametrize(
    "case, match",
    [
        ("missing", "does not exist"),
        ("empty", "empty"),
        ("folder", "folder"),
        ("corrupt", "damaged or not audio"),
        ("text_as_mp3", "damaged or not audio"),
        ("unsupported", "unsupported audio format"),
        ("image", "no audio stream"),
        ("silent_video", "no audio stream"),
        ("zero_samples", "no samples"),
    ],
)
def test_bad_inputs_raise_one_line_errors(case, match, tmp_path):
    path = tmp_path / "input"
    if case == "missing":
        path = tmp_path / "nowhere.wav"
    elif case == "empty":
        path = tmp_path / "empty.wav"
        path.write_bytes(b"")
    elif case == "folder":
        path = tmp_path
    elif case == "corrupt":
        path = tmp_path / "corrupt.wav"
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif case == "text_as_mp3":
        path = tmp_path / "notes.mp3"
        path.write_text("this is not audio at all\n" * 20)
    elif case == "unsupported":
        path = tmp_path / "speech.xyz"
        path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    elif case == "image":
        from PIL import Image

        path = tmp_path / "face.png"
        Image.new("RGB", (64, 64), (200, 150, 120)).save(path)
    elif case == "silent_video":
        path = tmp_path / "silent.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=10:duration=1", "-an", "-c:v", "libx264", str(path))
    elif case == "zero_samples":
        path = tmp_path / "zero.wav"
        sf.write(str(path), np.zeros(0, np.float32), 16000)
    with pytest.raises(EmocastError, match=match) as info:
        load_audio(path)
    assert "\n" not in str(info.value)


def test_too_long_names_the_limit_and_option(tmp_path):
    path = write_wav(tmp_path / "long.wav", 0.1 * np.ones(3 * 16000), 16000)
    with pytest.raises(EmocastError, match=r"2 s.*--max-audio-seconds"):
        load_audio(path, max_seconds=2.0)
    assert load_audio(path, max_seconds=3.5).duration == pytest.approx(3.0)


def test_too_long_without_duration_header(tmp_path):
    """Raw ADTS AAC has no duration in its header: the limit must hold while decoding."""
    wav = write_wav(tmp_path / "long.wav", 0.1 * np.sin(np.arange(5 * 16000) * 0.3), 16000)
    aac = tmp_path / "long.aac"
    ffmpeg("-i", str(wav), "-c:a", "aac", str(aac))
    with pytest.raises(EmocastError, match="--max-audio-seconds"):
        load_audio(aac, max_seconds=2.0)


def test_truncated_mp3_is_judged_by_what_it_holds(tmp_path, speech_wav):
    """A cut-off MP3 keeps its Xing header's full length: the limit applies to the decoded audio."""
    full = tmp_path / "full.mp3"
    ffmpeg("-i", str(speech_wav), "-c:a", "libmp3lame", "-b:a", "64k", str(full))
    whole = load_audio(full).duration
    data = full.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 3])
    limit = whole / 2  # under what the header declares, over what the cut file holds
    track = load_audio(cut, max_seconds=limit)
    assert 0.2 * whole < track.duration < limit
    with pytest.raises(EmocastError, match="--max-audio-seconds"):
        load_audio(full, max_seconds=limit)
