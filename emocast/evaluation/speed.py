"""Speed of a generation: real-time factor (wall time / audio duration) and peak memory."""

from __future__ import annotations

import resource
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

SAMPLE_SECONDS = 0.05  # how often resident memory is sampled while the generation runs


def measure(fn: Callable[[], Any], audio_seconds: float) -> tuple[Any, dict]:
    """Run `fn()` and measure it.

    Args:
        fn: the generation to run, e.g. ``lambda: emocast.generate(...)``.
        audio_seconds: duration of the speech it renders, seconds.

    Returns:
        (fn's result, {"wall_s", "rtf", "peak_rss_mb", "process_peak_rss_mb"}); peak_rss_mb is the
        highest resident memory sampled during the call (psutil), process_peak_rss_mb the
        process's lifetime maximum (getrusage).
    """
    peak = [0]
    stop = threading.Event()
    try:
        import psutil

        process = psutil.Process()
    except ImportError:
        process = None

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            stop.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True) if process is not None else None
    if sampler is not None:
        sampler.start()
    start = time.perf_counter()
    try:
        result = fn()
    finally:
        wall = time.perf_counter() - start
        stop.set()
        if sampler is not None:
            sampler.join()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS
    maxrss_mb = maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024
    return result, {
        "wall_s": round(wall, 3),
        "rtf": round(wall / max(audio_seconds, 1e-9), 4),
        "peak_rss_mb": round(peak[0] / 2**20, 1) if process is not None else None,
        "process_peak_rss_mb": round(maxrss_mb, 1),
    }
