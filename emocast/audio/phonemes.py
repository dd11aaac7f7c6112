"""Phone recognition with PocketSphinx's bundled US-English model in allphone mode.

Only the speech found by voice activity is decoded, in chunks of at most MAX_CHUNK_SECONDS split
at pauses, so time and memory grow linearly with the clip and long silences cost nothing.
"""

from __future__ import annotations

import functools
import json
import logging
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from emocast.audio.features import HOP_SECONDS
from emocast.audio.track import SAMPLE_RATE
from emocast.audio.vad import runs
from emocast.system import helper_environment, usable_cpus

logger = logging.getLogger(__name__)

MAX_CHUNK_SECONDS = 10.0  # longest piece handed to the decoder at once (small pieces share out evenly)
MERGE_GAP_SECONDS = 0.5  # speech runs closer than this are decoded together
PAD_SECONDS = 0.25  # silence kept around each chunk (cepstral mean + onsets)
DITHER = 1e-4  # tiny noise so digital silence does not upset the front end
DECODER_FRAME_RATE = 100  # PocketSphinx frames per second (its -frate default)
PARALLEL_MIN_SECONDS = 20.0  # with this much speech a helper process decodes part of it (PhoneJob)
HELPER_SHARE = 0.6  # share of the speech (its end) the helper decodes; this process reads prompt and face meanwhile
HELPER_TIMEOUT_S = 900
SILENCE_PHONES = ("SIL",)  # plus fillers like +NSN+, +SPN+ (anything in '+')

Phone = tuple[float, float, str]  # (start s, end s, ARPAbet phone without stress)


class PhoneDecodingError(RuntimeError):
    """PocketSphinx is missing or failed on this audio."""


def is_silence(phone: str) -> bool:
    """True for silence and filler labels (SIL, +NSN+, +SPN+, ...)."""
    return phone in SILENCE_PHONES or phone.startswith("+") or phone.startswith("<")


_decoder_lock = threading.Lock()  # one decoder per process: the app may generate on several threads
_decoder_used = False  # it has decoded since it was built or reset (guarded by _decoder_lock)


@functools.lru_cache(maxsize=1)
def _decoder():
    """The allphone decoder, built once per process (about 0.2 s)."""
    try:
        from pocketsphinx import Decoder, get_model_path
    except ImportError as e:
        raise PhoneDecodingError("pocketsphinx is not installed (pip install pocketsphinx)") from e
    model = Path(get_model_path()) / "en-us"
    return Decoder(
        hmm=str(model / "en-us"),
        allphone=str(model / "en-us-phone.lm.bin"),
        lw=2.0,  # phone LM weight: higher drops short phones, lower inserts noise
        beam=1e-20,  # narrower than the default 1e-48: 2x faster, same phones on real speech
        pbeam=1e-20,
        cmn="batch",  # each chunk is decoded whole, so its own cepstral mean is known
        loglevel="FATAL",
    )


def speech_chunks(active: np.ndarray, energy_db: np.ndarray, num_samples: int) -> list[tuple[int, int]]:
    """Sample ranges to decode: speech runs merged across short pauses, padded, <= MAX_CHUNK_SECONDS.

    Args:
        active: (K,) bool voice activity per 10 ms frame.
        energy_db: (K,) level per 10 ms frame; long runs without a pause are cut where it is lowest.
        num_samples: length of the clip in samples.
    """
    starts, stops = runs(active)
    if len(starts) == 0:
        return []
    hop = int(HOP_SECONDS * SAMPLE_RATE)
    merge, pad = int(MERGE_GAP_SECONDS / HOP_SECONDS), int(PAD_SECONDS / HOP_SECONDS)
    max_len = int(MAX_CHUNK_SECONDS / HOP_SECONDS)
    pieces: list[list[int]] = [[int(starts[0]), int(stops[0])]]
    for start, stop in zip(starts[1:], stops[1:]):
        if start - pieces[-1][1] <= merge and stop - pieces[-1][0] <= max_len - 2 * pad:
            pieces[-1][1] = int(stop)
        else:
            pieces.append([int(start), int(stop)])
    chunks = []
    limit = max_len - 2 * pad
    for start, stop in pieces:
        # a run longer than the limit (speech without pauses) is cut at its quietest frame
        # in the last third of each piece
        while stop - start > limit:
            search = energy_db[start + 2 * limit // 3 : start + limit]
            cut = start + 2 * limit // 3 + int(np.argmin(search))
            chunks.append((max(0, (start - pad) * hop), min(num_samples, (cut + pad) * hop)))
            start = cut
        chunks.append((max(0, (start - pad) * hop), min(num_samples, (stop + pad) * hop)))
    return chunks


def recognize_phones(
    samples: np.ndarray, active: np.ndarray, energy_db: np.ndarray, workers: int | None = None
) -> list[Phone]:
    """Phones with times, decoded only where there is speech.

    Args:
        samples: (N,) float32 mono at 16 kHz.
        active: (K,) bool voice activity per 10 ms frame.
        energy_db: (K,) level per 10 ms frame (where to cut long chunks).
        workers: decoding processes; None = 2 when there is at least PARALLEL_MIN_SECONDS of
            speech and 2 CPU cores, else 1 (see PhoneJob).

    Returns:
        [(start s, end s, phone)] sorted by time, silences included, ARPAbet labels.

    Raises:
        PhoneDecodingError: pocketsphinx missing or failing.
    """
    return PhoneJob(samples, active, energy_db, workers).result()


class PhoneJob:
    """Phone recognition that can run while this process does other work.

    With two workers a helper process (`python -m emocast.audio.phonemes`; PocketSphinx holds the
    GIL, so never a thread, and never a fork) starts at once on the last HELPER_SHARE of the
    speech; `result()` decodes the first part in this process and collects the helper's. Whatever
    this process does in between (the face stage) is time the helper has already used.

        job = PhoneJob(samples, active, energy_db)   # returns at once
        ...                                          # other work
        phones = job.result()

    The split depends only on the pieces, so a clip always gives the same phones (PocketSphinx's
    result for a piece depends a little on the pieces its decoder saw before).
    """

    def __init__(
        self, samples: np.ndarray, active: np.ndarray, energy_db: np.ndarray, workers: int | None = None
    ) -> None:
        rng = np.random.default_rng(0)
        self.pieces: list[tuple[float, np.ndarray]] = []
        for lo, hi in speech_chunks(active, energy_db, len(samples)):
            chunk = samples[lo:hi] + rng.normal(0.0, DITHER, hi - lo).astype(np.float32)
            self.pieces.append((lo / SAMPLE_RATE, (np.clip(chunk, -1.0, 1.0) * 32767.0).astype(np.int16)))
        speech_seconds = sum(len(pcm) for _, pcm in self.pieces) / SAMPLE_RATE
        if workers is None:
            workers = 2 if speech_seconds >= PARALLEL_MIN_SECONDS and usable_cpus() >= 2 else 1
        if not sys.executable:  # an embedded interpreter: no Python to start a helper with
            workers = 1
        self.split = len(self.pieces)  # pieces[split:] go to the helper
        self._helper = None
        if workers > 1 and len(self.pieces) > 1:
            sizes = np.cumsum([len(pcm) for _, pcm in self.pieces])
            first = np.searchsorted(sizes, (1.0 - HELPER_SHARE) * sizes[-1]) + 1
            self.split = int(np.clip(first, 1, len(self.pieces) - 1))
            self._helper = _Helper(self.pieces[self.split :])

    def close(self) -> None:
        """Stop the helper process if the phones are no longer wanted (result() does it itself)."""
        if self._helper is not None:
            self._helper.close()
            self._helper = None

    def result(self) -> list[Phone]:
        """All phones, sorted, overlaps of neighbouring pieces removed."""
        if self._helper is None:
            return _remove_overlaps(_decode_pieces(self.pieces))
        with self._helper as helper:
            segments = _decode_pieces(self.pieces[: self.split])
            segments += helper.result() or _decode_pieces(self.pieces[self.split :])
        self._helper = None
        return _remove_overlaps(segments)


def _decode_pieces(pieces: list[tuple[float, np.ndarray]]) -> list[Phone]:
    """Decode (offset s, int16 pcm) pieces in this process, from a fresh decoder state.

    PocketSphinx's result for an utterance depends a little on the ones it decoded before, so a
    decoder that has been used is reset first (~0.13 s): the same clip then always gives the same
    phones, however many clips this process decoded earlier (the app).
    """
    global _decoder_used
    phones: list[Phone] = []
    with _decoder_lock:  # utterances of two threads must not interleave on the one decoder
        decoder = _decoder()
        if _decoder_used:
            decoder.reinit()
        _decoder_used = bool(pieces)
        for offset, pcm in pieces:
            try:
                decoder.start_utt()
                decoder.process_raw(pcm.astype("<i2").tobytes(), full_utt=True)
                decoder.end_utt()
                segments = list(decoder.seg())
            except RuntimeError as e:
                raise PhoneDecodingError(f"pocketsphinx failed: {e}") from e
            for seg in segments:
                start = offset + seg.start_frame / DECODER_FRAME_RATE
                end = offset + (seg.end_frame + 1) / DECODER_FRAME_RATE
                phones.append((start, end, seg.word.upper()))
    return phones


def _remove_overlaps(phones: list[Phone]) -> list[Phone]:
    """Chunks cut inside speech overlap by their padding: keep each moment once."""
    out: list[Phone] = []
    for start, end, phone in sorted(phones):
        if out and start < out[-1][1]:
            if end <= out[-1][1]:
                continue
            start = out[-1][1]
        out.append((start, end, phone))
    return out


class _Helper:
    """A second decoding process; result() is None if it failed (then decode here)."""

    def __init__(self, pieces: list[tuple[float, np.ndarray]]) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="emocast-phones-")
        path = Path(self._dir.name) / "pieces.npz"
        np.savez(
            path,
            offsets=np.array([o for o, _ in pieces], np.float64),
            lengths=np.array([len(p) for _, p in pieces], np.int64),
            pcm=np.concatenate([p for _, p in pieces]),
        )
        try:
            self._proc: subprocess.Popen | None = subprocess.Popen(
                [sys.executable, "-m", "emocast.audio.phonemes", str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=helper_environment(),
            )
        except OSError as e:
            logger.info("phone helper process did not start (%s); decoding in this process", e)
            self._proc = None

    def result(self) -> list[Phone] | None:
        if self._proc is None:
            return None
        try:
            out, err = self._proc.communicate(timeout=HELPER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.communicate()
            logger.info("phone helper process timed out; decoding in this process")
            return None
        if self._proc.returncode != 0:
            logger.info("phone helper process failed: %s", err.decode("utf-8", "replace").strip()[-300:])
            return None
        return [(float(a), float(b), str(p)) for a, b, p in json.loads(out)]

    def close(self) -> None:
        """Stop the process if it still runs and remove its files."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.communicate()
        self._dir.cleanup()

    def __enter__(self) -> "_Helper":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _helper_main(path: str) -> None:
    """Entry of the helper process: decode the pieces in `path`, print [[start, end, phone], ...]."""
    data = np.load(path)
    bounds = np.concatenate([[0], np.cumsum(data["lengths"])])
    pcm = data["pcm"]
    pieces = [(float(o), pcm[a:b]) for o, a, b in zip(data["offsets"], bounds[:-1], bounds[1:])]
    print(json.dumps(_decode_pieces(pieces)))


if __name__ == "__main__":
    _helper_main(sys.argv[1])
