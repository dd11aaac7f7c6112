"""End to end through the CLI and the Python API with the mesh engine, on real small data.

tests/data/speech_with_pause.wav: espeak-ng speech 0-2.7 s, silence 2.7-4.7 s, speech 4.7-6.5 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import emocast
from emocast.cli import main
from emocast.video import iter_frames, probe

DATA = Path(__file__).parent / "data"
SPEECH_WITH_PAUSE = DATA / "speech_with_pause.wav"
SIZE = 256


@pytest.fixture(scope="module")
def pause_video(tmp_path_factory, portrait_closed) -> Path:
    out = tmp_path_factory.mktemp("e2e") / "pause.mp4"
    code = main(["generate", "--image", str(portrait_closed), "--audio", str(SPEECH_WITH_PAUSE),
                 "--prompt", "calm and friendly", "--size", str(SIZE), "--quiet", "--out", str(out)])
    assert code == 0
    return out


def test_output_streams_duration_and_fps(pause_video: Path):
    info = probe(pause_video)
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("h264", "yuv420p", "aac")
    assert (info.width, info.height) == (SIZE, SIZE)
    assert info.fps == pytest.approx(25)
    audio_seconds = 104611 / 16000
    assert abs(info.num_frames / 25 - audio_seconds) <= 1 / 25
    assert abs(info.audio_duration - audio_seconds) <= 1 / 25


def test_mouth_moves_more_during_speech_than_in_the_pause(pause_video: Path):
    from emocast.face.detect import detect_face
    from emocast.face.landmarks import LIPS_OUTER

    frames = list(iter_frames(pause_video))
    lips = detect_face(frames[0]).landmarks[list(LIPS_OUTER), :2]
    (x0, y0), (x1, y1) = lips.min(0) - 8, lips.max(0) + 8
    mouth = np.stack([f[int(y0) : int(y1), int(x0) : int(x1)].astype(np.float32).mean(-1) for f in frames])
    change = np.abs(np.diff(mouth, axis=0)).mean(axis=(1, 2))  # (F-1,) per-frame mouth change

    def window(t0: float, t1: float) -> float:
        return float(change[int(t0 * 25) : int(t1 * 25)].mean())

    speech = (window(0.3, 2.4) + window(4.9, 6.2)) / 2
    pause = window(3.1, 4.4)
    assert speech > 2.5 * pause, (speech, pause)


def test_python_api_and_keep_frame(tmp_path: Path, portrait_smiling: Path, speech_short: Path):
    from PIL import Image

    out = emocast.generate(portrait_smiling, speech_short, "deeply sad, close to tears", intensity=1.0,
                           out=tmp_path / "keep.mp4", keep_frame=True, fps=20)
    info = probe(out)
    w, h = Image.open(portrait_smiling).size
    assert (info.width, info.height) == (w // 2 * 2, h // 2 * 2)
    assert info.fps == pytest.approx(20)


def test_silence_gives_a_valid_video_with_a_closed_mouth(tmp_path: Path, portrait_closed: Path):
    """The source's lips are slightly parted (MediaPipe opening ~0.15): silence must close and keep them closed."""
    import soundfile as sf

    from emocast.audio.load import load_audio
    from emocast.audio.speech import analyze_speech
    from emocast.emotion.analyze import analyze_prompt
    from emocast.emotion.expression import expression_track
    from emocast.face.crop import crop_face
    from emocast.face.detect import detect_face
    from emocast.face.image import load_portrait
    from emocast.face.landmarks import mouth_opening
    from emocast.motion.animate import plan_motion
    from emocast.options import GenerateOptions

    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(16000 * 2, np.float32), 16000)
    out = emocast.generate(portrait_closed, silence, "neutral", out=tmp_path / "s.mp4", size=SIZE)
    frames = np.stack(list(iter_frames(out))).astype(np.float32)
    assert len(frames) == 50

    # the motion the renderer draws: inner lips meet on every frame
    options = GenerateOptions(size=SIZE)
    crop = crop_face(detect_face(load_portrait(portrait_closed)), SIZE)
    speech = analyze_speech(load_audio(silence), fps=25)
    motion = plan_motion(crop, expression_track(analyze_prompt("neutral"), speech.prosody), speech, options)
    assert mouth_opening(crop.landmarks) > 0.1  # the photo's lips are apart
    assert max(mouth_opening(motion.mesh_at(i)) for i in range(0, 50, 7)) < 0.02

    # and the pixels of the mouth stay still (no talking) apart from slow head motion
    lips = crop.landmarks[:, :2][[13, 14, 61, 291]]
    (x0, y0), (x1, y1) = lips.min(0).astype(int) - 6, lips.max(0).astype(int) + 6
    mouth = frames[:, y0:y1, x0:x1].mean(-1)
    assert np.abs(np.diff(mouth, axis=0)).mean() < 2.0


# -- bad input: exit 2, one line, nothing written ----------------------------------------------


def _generate_cli(tmp_path: Path, image: Path, audio: Path, capsys, *extra: str) -> tuple[int, str]:
    out = tmp_path / "out" / "o.mp4"
    out.parent.mkdir(exist_ok=True)
    code = main(["generate", "--image", str(image), "--audio", str(audio), "--prompt", "happy",
                 "--size", "128", "--quiet", "--out", str(out), *extra])
    err = capsys.readouterr().err
    assert not any(out.parent.iterdir()), "output left behind"
    return code, err


def test_no_face(tmp_path, capsys, speech_short):
    from PIL import Image

    img = tmp_path / "wall.png"
    gradient = np.tile(np.linspace(60, 200, 256, dtype=np.uint8), (256, 1))
    Image.fromarray(np.stack([gradient] * 3, -1)).save(img)
    code, err = _generate_cli(tmp_path, img, speech_short, capsys)
    assert code == 2 and "no face" in err and err.count("\n") == 1


def test_no_face_with_long_speech_stops_the_phone_helper(tmp_path, capsys, speech_real, monkeypatch):
    import soundfile as sf

    from emocast.audio import phonemes

    started = []
    original = phonemes._Helper.__init__

    def init(self, pieces):
        original(self, pieces)
        started.append(self)

    monkeypatch.setattr(phonemes._Helper, "__init__", init)
    samples, rate = sf.read(speech_real, dtype="float32")
    long_speech = tmp_path / "long.wav"
    sf.write(long_speech, np.tile(samples, (3, 1)), rate)  # 33 s (rows are time): enough speech for the helper
    from PIL import Image

    img = tmp_path / "wall.png"
    gradient = np.tile(np.linspace(60, 200, 256, dtype=np.uint8), (256, 1))
    Image.fromarray(np.stack([gradient] * 3, -1)).save(img)  # no face in it
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, err = _generate_cli(out_dir, img, long_speech, capsys)
    assert code == 2 and "no face" in err and err.count("\n") == 1
    assert len(started) == 1
    assert started[0]._proc.poll() is not None  # the helper was stopped, not left decoding


def test_not_an_image(tmp_path, capsys, speech_short):
    img = tmp_path / "notes.jpg"
    img.write_text("this is not a picture\n")
    code, err = _generate_cli(tmp_path, img, speech_short, capsys)
    assert code == 2 and "image" in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", ["corrupt", "empty", "image-as-audio"])
def test_bad_audio(tmp_path, capsys, portrait_closed, kind):
    audio = tmp_path / "speech.wav"
    if kind == "corrupt":
        audio.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 8)
    elif kind == "empty":
        audio.write_bytes(b"")
    else:
        audio.write_bytes(portrait_closed.read_bytes())
    code, err = _generate_cli(tmp_path, portrait_closed, audio, capsys)
    assert code == 2 and "audio" in err.lower() and err.count("\n") == 1, err


def test_unsupported_audio_format(tmp_path, capsys, portrait_closed):
    audio = tmp_path / "speech.xyz"
    audio.write_bytes(b"\x00\x01garbage" * 100)
    code, err = _generate_cli(tmp_path, portrait_closed, audio, capsys)
    assert code == 2 and err.count("\n") == 1


def test_audio_longer_than_the_limit(tmp_path, capsys, portrait_closed, speech_short):
    code, err = _generate_cli(tmp_path, portrait_closed, speech_short, capsys, "--max-audio-seconds", "2")
    assert code == 2 and "max-audio-seconds" in err and err.count("\n") == 1


def test_output_not_writable(capsys, portrait_closed, speech_short):
    # /proc refuses new files even for root, unlike a chmod-ed folder
    code = main(["generate", "--image", str(portrait_closed), "--audio", str(speech_short), "--prompt", "happy",
                 "--quiet", "--out", "/proc/emocast_test.mp4"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot write" in err and err.count("\n") == 1


def test_mesh_path_never_imports_torch(tmp_path, portrait_closed, speech_short):
    code = (
        "import sys, emocast;"
        f"emocast.generate({str(portrait_closed)!r}, {str(speech_short)!r}, 'surprised', "
        f"out={str(tmp_path / 'x.mp4')!r}, size=128);"
        "assert 'torch' not in sys.modules, 'torch imported on the mesh path'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("field, value, message", [("fps", 12.5, "fps must be a whole number"),
                                                   ("head_motion", None, "head motion must be a number"),
                                                   ("seed", 1.5, "seed must be a whole number")])
def test_api_options_of_the_wrong_type_are_user_errors(field, value, message):
    from dataclasses import replace

    from emocast.errors import EmocastError
    from emocast.options import GenerateOptions

    with pytest.raises(EmocastError, match=message):
        replace(GenerateOptions(), **{field: value}).check()
    assert GenerateOptions(size=256.0).check().size == 256
