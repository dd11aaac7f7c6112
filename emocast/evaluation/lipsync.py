"""Lip sync: does the mouth open and close with the speech in the video's own audio track?

Mouth opening comes from dlib's inner-lip landmarks (a detector the generator does not use),
normalised by the interocular distance. The speech loudness envelope is read from the video's
audio at the video's frame rate. Both are band-passed (slow drift and frame noise removed) and
correlated over lags of -8..+8 frames; the lag with the highest correlation is the audio-video
offset (positive: the audio comes later than the mouth). Silences (energy VAD) and bilabial
phones (p, b, m; found with pocketsphinx's phone decoder, independent of the generator) should
show a closed mouth.

SyncNet's LSE-D / LSE-C (Chung & Zisserman 2016, as used by Wav2Lip and EmoCAST) are computed by
`syncnet.py` when the user supplies SyncNet's weights.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emocast.video import open_media

SAMPLE_RATE = 16000  # Hz: the audio is analysed at this rate
MAX_LAG = 8  # frames, each side
SMOOTH_FRAMES = 3  # frames: box filter against landmark noise
DETREND_SECONDS = 1.0  # slower changes (head pose, level drift) are removed before correlating
CLOSED_MOUTH = 0.08  # mouth opening (interocular units) below which the lips count as closed
SILENCE_MIN_SECONDS = 0.2  # pauses shorter than this are not judged (the mouth may stay open)
SILENCE_MARGIN_FRAMES = 2  # frames trimmed at both ends of a pause (the mouth is still closing/opening)
FLAT_MOUTH = 1e-3  # mouth-opening std (interocular units) below which the mouth does not move
BILABIALS = ("P", "B", "M")


@dataclass
class LipSyncResult:
    """Agreement of mouth and speech over one video."""

    lags: list[int]  # frames, -MAX_LAG..MAX_LAG
    correlations: list[float]  # Pearson r at each lag
    best_lag: int  # frames; positive: the audio lags the mouth
    peak: float  # the highest correlation
    at_zero: float  # correlation at lag 0
    confidence: float  # peak - median over lags (like SyncNet's confidence)
    mouth_motion: float  # std of the mouth opening, interocular units
    silence_closure: float | None  # fraction of pause frames with a closed mouth
    silence_frames: int
    bilabial_closure: float | None  # fraction of bilabial phones with a closed mouth
    bilabials: int
    bilabial_reason: str | None

    def to_dict(self) -> dict:
        return {
            "best_lag_frames": self.best_lag,
            "peak_correlation": round(self.peak, 4),
            "correlation_at_zero": round(self.at_zero, 4),
            "confidence": round(self.confidence, 4),
            "mouth_motion": round(self.mouth_motion, 4),
            "lag_curve": {"lags": self.lags, "correlations": [round(c, 4) for c in self.correlations]},
            "silence_closure": None if self.silence_closure is None else round(self.silence_closure, 4),
            "silence_frames": self.silence_frames,
            "bilabial_closure": None if self.bilabial_closure is None else round(self.bilabial_closure, 4),
            "bilabials": self.bilabials,
            **({"bilabial_reason": self.bilabial_reason} if self.bilabial_reason else {}),
        }


def read_audio(video: Path, rate: int = SAMPLE_RATE) -> np.ndarray | None:
    """The video's first audio stream as mono float32 at `rate` Hz, or None if it has no audio."""
    import av

    with open_media(video, "video") as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = []
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)


def loudness_envelope(samples: np.ndarray, fps: float, num_frames: int, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Loudness per video frame in dB (RMS over each frame's 1/fps window), floored 60 dB below the peak.

    Returns:
        (num_frames,) float array; frames past the end of the audio get the floor.
    """
    hop = rate / fps  # samples per video frame
    db = np.empty(num_frames, np.float64)
    for i in range(num_frames):
        chunk = samples[int(round(i * hop)) : int(round((i + 1) * hop))]
        rms = float(np.sqrt(np.mean(chunk.astype(np.float64) ** 2))) if chunk.size else 0.0
        db[i] = 20 * np.log10(rms + 1e-8)
    return np.maximum(db, db.max() - 60.0)


def band_pass(x: np.ndarray, fps: float) -> np.ndarray:
    """Remove drift slower than ~DETREND_SECONDS and frame-to-frame noise; z-score."""
    x = np.asarray(x, np.float64)
    slow = _moving_average(x, max(3, int(round(DETREND_SECONDS * fps)) | 1))
    y = _moving_average(x - slow, SMOOTH_FRAMES)
    std = y.std()
    return (y - y.mean()) / std if std > 0 else np.zeros_like(y)


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    pad = width // 2
    padded = np.pad(x, pad, mode="edge")
    return np.convolve(padded, np.ones(width) / width, mode="valid")


def lag_correlations(
    mouth: np.ndarray, audio: np.ndarray, max_lag: int = MAX_LAG, mask: np.ndarray | None = None
) -> tuple[list[int], list[float]]:
    """Pearson r of mouth[t] with audio[t + lag] for lag in -max_lag..max_lag (0 where undefined).

    Args:
        mask: (F,) bool, frames that may take part (a pair needs both of its frames); default all.
    """
    lags = list(range(-max_lag, max_lag + 1))
    n = min(len(mouth), len(audio))
    mask = np.ones(n, bool) if mask is None else np.asarray(mask[:n], bool)
    correlations = []
    for lag in lags:
        t = np.arange(max(0, -lag), n - max(0, lag))
        keep = mask[t] & mask[t + lag]
        a, b = mouth[t][keep], audio[t + lag][keep]
        if len(a) < 3 or a.std() == 0 or b.std() == 0:
            correlations.append(0.0)
        else:
            correlations.append(float(np.corrcoef(a, b)[0, 1]))
    return lags, correlations


def silent_frames(envelope_db: np.ndarray, fps: float) -> np.ndarray:
    """Boolean mask of frames inside pauses of at least SILENCE_MIN_SECONDS (energy VAD).

    The threshold sits a quarter of the way from the noise floor (5th percentile) to the speech
    level (95th percentile) in dB, so it adapts to the recording level.
    """
    floor, speech = np.percentile(envelope_db, 5), np.percentile(envelope_db, 95)
    quiet = envelope_db < floor + 0.25 * (speech - floor)
    if speech - floor < 10:  # no dynamic range: all speech or all silence; judge nothing
        return np.zeros_like(quiet)
    mask = np.zeros_like(quiet)
    min_len = int(round(SILENCE_MIN_SECONDS * fps))
    start = None
    for i, q in enumerate(list(quiet) + [False]):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if i - start >= min_len:
                lo, hi = start + SILENCE_MARGIN_FRAMES, i - SILENCE_MARGIN_FRAMES
                if hi > lo:
                    mask[lo:hi] = True
            start = None
    return mask


def bilabial_times(samples: np.ndarray, rate: int = SAMPLE_RATE) -> list[tuple[float, float]]:
    """(start, end) seconds of the p/b/m phones pocketsphinx's English phone decoder finds.

    Raises:
        ImportError: when pocketsphinx is not installed.
    """
    from pocketsphinx import Decoder, get_model_path

    lm = os.path.join(get_model_path(), "en-us", "en-us-phone.lm.bin")
    decoder = Decoder(allphone=lm, lw=2.0, pip=0.3, beam=1e-20, pbeam=1e-20, logfn=os.devnull)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()
    frame_rate = 100.0  # pocketsphinx frames per second
    return [
        (seg.start_frame / frame_rate, (seg.end_frame + 1) / frame_rate)
        for seg in decoder.seg()
        if seg.word in BILABIALS
    ]


def lip_sync(
    mouth_opening: np.ndarray, samples: np.ndarray, fps: float, rate: int = SAMPLE_RATE, bilabials: bool = True
) -> LipSyncResult:
    """Measure lip sync from a per-frame mouth-opening curve and the speech samples.

    Args:
        mouth_opening: (F,) inner-lip gap per frame in interocular units; NaN where no face was found.
        samples: mono float32 speech at `rate` Hz, aligned with frame 0.
        fps: video frames per second.
        bilabials: also judge closures on p/b/m (needs pocketsphinx; ~0.1 s per second of audio).
    """
    mouth = _fill_gaps(np.asarray(mouth_opening, np.float64))
    envelope = loudness_envelope(samples, fps, len(mouth), rate)
    motion = float(np.nanstd(mouth))
    silence = silent_frames(envelope, fps)
    if motion < FLAT_MOUTH:
        lags, correlations = list(range(-MAX_LAG, MAX_LAG + 1)), [0.0] * (2 * MAX_LAG + 1)
    else:
        # long pauses are judged by closure below, not by correlation: a breath or a smile there
        # opens the mouth without sound
        lags, correlations = lag_correlations(band_pass(mouth, fps), band_pass(envelope, fps), mask=~silence)
    best = int(np.argmax(correlations))
    closed = mouth < CLOSED_MOUTH
    silence_closure = float(closed[silence].mean()) if silence.any() else None

    bilabial_closure, count, reason = None, 0, None
    if not bilabials:
        reason = "not requested"
    else:
        try:
            spans = bilabial_times(samples, rate)
        except ImportError:
            spans, reason = [], "needs pocketsphinx (pip install pocketsphinx)"
        hits = []
        for start, end in spans:
            lo, hi = int(np.floor(start * fps)) - 1, int(np.ceil(end * fps)) + 1  # +-1 frame tolerance
            window = mouth[max(0, lo) : min(len(mouth), hi)]
            if window.size:
                hits.append(bool(window.min() < CLOSED_MOUTH))
        count = len(hits)
        if hits:
            bilabial_closure = float(np.mean(hits))
        elif reason is None:
            reason = "no p/b/m phones found in the audio"
    return LipSyncResult(
        lags=lags,
        correlations=correlations,
        best_lag=lags[best],
        peak=correlations[best],
        at_zero=correlations[lags.index(0)],
        confidence=float(correlations[best] - np.median(correlations)),
        mouth_motion=motion,
        silence_closure=silence_closure,
        silence_frames=int(silence.sum()),
        bilabial_closure=bilabial_closure,
        bilabials=count,
        bilabial_reason=reason,
    )


def _fill_gaps(x: np.ndarray) -> np.ndarray:
    """Linearly interpolate NaNs (frames without a face); all-NaN becomes zeros."""
    bad = ~np.isfinite(x)
    if bad.all():
        return np.zeros_like(x)
    if bad.any():
        idx = np.arange(len(x))
        x = x.copy()
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return x
