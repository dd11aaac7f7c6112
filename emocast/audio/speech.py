"""analyze_speech(): AudioTrack -> SpeechFeatures (prosody + visemes per video frame).

The "listen" stage reads top to bottom: short-time features, voice activity, prosody, then
visemes from phones (PocketSphinx) or, when that fails or looks implausible, from loudness and
spectral shape.
"""

from __future__ import annotations

import logging

import numpy as np

from emocast.audio.features import HOP_SECONDS, frame_features
from emocast.audio.phonemes import Phone, PhoneDecodingError, PhoneJob, is_silence
from emocast.audio.prosody import compute_prosody, loudness_curve
from emocast.audio.track import AudioTrack, SpeechFeatures, VisemeTrack
from emocast.audio.vad import voice_activity
from emocast.errors import EmocastError

logger = logging.getLogger(__name__)

METHODS = ("auto", "phones", "energy")
MIN_PHONES_PER_SECOND = 3.0  # real speech has ~8-15 phones per second of voice activity
MAX_PHONES_PER_SECOND = 30.0
MIN_PHONE_COVERAGE = 0.3  # phones (not silence) must cover this share of the detected speech
MIN_SPEECH_FOR_CHECK_S = 1.0  # too little speech to judge plausibility: trust the phones


def analyze_speech(track: AudioTrack, fps: float, method: str = "auto") -> SpeechFeatures:
    """Prosody and mouth articulation for every video frame of the clip.

    Args:
        track: decoded speech (16 kHz mono float32).
        fps: video frames per second.
        method: "phones" (PocketSphinx, English model), "energy" (loudness/spectral fallback, any
            language) or "auto" (phones unless decoding fails or the phones look implausible).

    Returns:
        SpeechFeatures with num_frames = max(1, round(duration * fps)); every per-frame array has
        exactly num_frames entries.
    """
    return SpeechAnalysis(track, fps, method).result()


class SpeechAnalysis:
    """analyze_speech in two steps, so other work can run while a helper process decodes phones.

        listening = SpeechAnalysis(track, fps)   # features, voice activity, prosody; phones started
        ...                                      # e.g. the face stage
        speech = listening.result()              # the same SpeechFeatures as analyze_speech
    """

    def __init__(self, track: AudioTrack, fps: float, method: str = "auto") -> None:
        if method not in METHODS:
            raise EmocastError(f"unknown lip-sync method {method!r}; choose one of {', '.join(METHODS)}")
        if not fps > 0:
            raise EmocastError(f"fps must be positive, got {fps}")
        self.fps, self.method = float(fps), method
        self.num_frames = max(1, int(round(track.duration * fps)))

        # 1. short-time features and voice activity at 100 Hz
        self.features = frame_features(track.samples)
        self.active = voice_activity(self.features)
        self.loudness = loudness_curve(self.features, self.active)

        # 2. phones, started first (a helper process may decode part of them meanwhile)
        self._result: SpeechFeatures | None = None
        self._phones: PhoneJob | None = None
        if method in ("auto", "phones"):
            self._phones = PhoneJob(track.samples, self.active, self.features.energy_db)

        # 3. prosody per video frame
        try:
            self.prosody = compute_prosody(track.samples, self.features, self.active, fps, self.num_frames)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Drop the analysis (e.g. the face stage failed): stops a phone helper process at once."""
        if self._phones is not None:
            self._phones.close()

    def result(self) -> SpeechFeatures:
        """Finish the phones and turn them into visemes (energy as the fallback); once."""
        if self._result is not None:
            return self._result
        visemes = None
        if self.method in ("auto", "phones"):
            visemes = self._phone_visemes(strict=self.method == "phones")
        if visemes is None:
            from emocast.audio.energy_visemes import energy_visemes

            visemes = energy_visemes(self.features, self.active, self.loudness, self.fps, self.num_frames)
        self._result = SpeechFeatures(num_frames=self.num_frames, fps=self.fps, prosody=self.prosody, visemes=visemes)
        return self._result

    def _phone_visemes(self, strict: bool) -> VisemeTrack | None:
        """Visemes from phones, or None (auto mode) when decoding fails or looks wrong."""
        from emocast.audio.visemes import phones_to_visemes

        try:
            job, self._phones = self._phones, None  # the job holds the speech as int16 pieces: let it go
            phones = job.result()
        except PhoneDecodingError as e:
            if strict:
                raise EmocastError(f"phone recognition failed ({e}); use the energy lip-sync method") from e
            logger.warning("phone recognition failed (%s); using the energy lip-sync method", e)
            return None
        problem = implausibility(phones, self.active)
        if problem and not strict:
            logger.info("phones look implausible (%s); using the energy lip-sync method", problem)
            return None
        return phones_to_visemes(phones, self.loudness, self.fps, self.num_frames, len(self.features))


def implausibility(phones: list[Phone], active: np.ndarray) -> str | None:
    """Why the recognised phones do not look like speech, or None when they do.

    Args:
        phones: [(start s, end s, phone)].
        active: (K,) bool voice activity per 10 ms frame.
    """
    speech_seconds = float(active.sum()) * HOP_SECONDS
    if speech_seconds < MIN_SPEECH_FOR_CHECK_S:
        return None
    spoken = [(s, e) for s, e, p in phones if not is_silence(p)]
    rate = len(spoken) / speech_seconds
    if rate < MIN_PHONES_PER_SECOND:
        return f"{rate:.1f} phones per second of speech"
    if rate > MAX_PHONES_PER_SECOND:
        return f"{rate:.1f} phones per second of speech"
    covered = np.zeros(len(active), bool)
    for start, end in spoken:
        covered[int(start / HOP_SECONDS) : int(np.ceil(end / HOP_SECONDS))] = True
    coverage = float((covered[: len(active)] & active).sum()) / max(1, int(active.sum()))
    if coverage < MIN_PHONE_COVERAGE:
        return f"phones cover {coverage:.0%} of the speech"
    return None
