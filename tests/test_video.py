from pathlib import Path

import numpy as np
import pytest

from emocast.errors import EmocastError
from emocast.video import VideoWriter, check_output_path, iter_frames, probe


def _moving_square(i: int, size: int = 128) -> np.ndarray:
    frame = np.full((size, size, 3), 40, np.uint8)
    x = 10 + 3 * i
    frame[40:80, x : x + 30] = (220, 60, 30)
    return frame


def test_writer_streams_h264_aac_with_audio_cut_to_video(tmp_path: Path, speech_real: Path):
    out = tmp_path / "v.mp4"
    with VideoWriter(out, fps=25, size=(128, 128), audio_path=speech_real) as writer:
        for i in range(50):  # 2 s of video over 11 s of audio
            writer.write(_moving_square(i))
    info = probe(out)
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    assert (info.width, info.height, info.num_frames) == (128, 128, 50)
    assert info.fps == pytest.approx(25)
    assert info.audio_duration == pytest.approx(2.0, abs=1 / 25)
    assert not list(tmp_path.glob("*.part*")), "temporary file left behind"


@pytest.mark.parametrize("codec, suffix", [("libopus", ".webm"), ("libmp3lame", ".mp3"), ("aac", ".m4a")])
def test_writer_audio_from_compressed_speech_has_the_videos_length(tmp_path: Path, speech_real: Path, codec, suffix):
    """Browser recordings (mono webm/opus), mp3 and m4a: the decoder's time base is not the AAC track's
    (with a mono source the resampler passes frames through, time base and all)."""
    import subprocess

    import imageio_ffmpeg

    speech = tmp_path / f"speech{suffix}"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(speech_real),
                    "-ac", "1", "-c:a", codec, str(speech)], check=True)
    out = tmp_path / "v.mp4"
    with VideoWriter(out, fps=25, size=(64, 64), audio_path=speech) as writer:
        for i in range(100):  # 4 s
            writer.write(np.full((64, 64, 3), i, np.uint8))
    info = probe(out)
    assert info.audio_codec == "aac"
    assert info.audio_duration == pytest.approx(4.0, abs=1 / 25)


def test_writer_colours_survive_encoding(tmp_path: Path):
    out = tmp_path / "c.mp4"
    with VideoWriter(out, fps=25, size=(128, 128), audio_samples=np.zeros(16000, np.float32)) as writer:
        for i in range(5):
            writer.write(_moving_square(i))
    first = next(iter_frames(out))
    expected = _moving_square(0)
    assert np.abs(first.astype(int) - expected).mean() < 4
    assert tuple(first[60, 20]) == pytest.approx((220, 60, 30), abs=12)


def test_writer_abort_leaves_nothing(tmp_path: Path):
    out = tmp_path / "a.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, fps=25, size=(64, 64)) as writer:
            writer.write(np.zeros((64, 64, 3), np.uint8))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_stopped_while_it_starts_leaves_nothing(tmp_path: Path, speech_real: Path, monkeypatch):
    """`kill` lands while the encoder opens (SystemExit from the CLI's SIGTERM handler): no .part file."""
    import emocast.video as video

    def killed(*args, **kwargs):
        raise SystemExit(143)

    monkeypatch.setattr(video, "_open_audio", killed)
    with pytest.raises(SystemExit):
        VideoWriter(tmp_path / "k.mp4", fps=25, size=(64, 64), audio_path=speech_real)
    assert list(tmp_path.iterdir()) == []


def test_writer_reports_an_encoder_failure_and_leaves_nothing(tmp_path: Path, monkeypatch):
    out = tmp_path / "f.mp4"
    writer = VideoWriter(out, fps=25, size=(64, 64))

    class Broken:
        def encode(self, frame):
            raise OSError("disk full")

    monkeypatch.setattr(writer, "_video", Broken())  # the encoder thread hits it
    with pytest.raises(OSError, match="disk full"):
        with writer:
            for _ in range(200):  # more than the queue holds: write() must notice, not block forever
                writer.write(np.zeros((64, 64, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_writer_copies_frames_before_returning(tmp_path: Path):
    out = tmp_path / "r.mp4"
    frame = np.zeros((128, 128, 3), np.uint8)
    with VideoWriter(out, fps=25, size=(128, 128)) as writer:
        for i in range(10):
            frame[:] = _moving_square(i)  # one buffer, reused like a renderer's
            writer.write(frame)
    for i, decoded in enumerate(iter_frames(out)):
        assert np.abs(decoded.astype(int) - _moving_square(i)).mean() < 4, i


def test_check_output_path(tmp_path: Path, speech_short: Path):
    assert check_output_path(tmp_path / "x.mp4") == tmp_path / "x.mp4"
    longest = tmp_path / ("b" * 251 + ".mp4")  # 255 bytes: the temporary file's name must fit too
    assert check_output_path(longest) == longest
    with VideoWriter(longest, fps=25, size=(64, 64)) as writer:
        writer.write(_moving_square(0, 64))
    assert longest.exists()
    with pytest.raises(EmocastError, match="file name is too long"):
        check_output_path(tmp_path / ("b" * 252 + ".mp4"))
    with pytest.raises(EmocastError, match="must end in .mp4"):
        check_output_path(tmp_path / "x.avi")
    with pytest.raises(EmocastError, match="does not exist"):
        check_output_path(tmp_path / "missing" / "x.mp4")
    with pytest.raises(EmocastError, match="folder"):
        (tmp_path / "d.mp4").mkdir()
        check_output_path(tmp_path / "d.mp4")
    same = tmp_path / "in.mp4"
    same.write_bytes(b"x")
    with pytest.raises(EmocastError, match="input"):
        check_output_path(same, inputs=(same,))


def test_writer_silences_nan_samples_of_a_float_wav(tmp_path: Path):
    """A float WAV with NaN / inf samples: AAC refuses them, so they are encoded as silence."""
    import soundfile as sf

    samples = (0.3 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    samples[::50], samples[7::50] = np.nan, np.inf
    wav = tmp_path / "nan.wav"
    sf.write(str(wav), samples, 16000, subtype="FLOAT")
    out = tmp_path / "v.mp4"
    with VideoWriter(out, fps=25, size=(64, 64), audio_path=wav) as writer:
        for i in range(25):
            writer.write(_moving_square(i, 64))
    assert probe(out).audio_duration == pytest.approx(1.0, abs=1 / 25)
