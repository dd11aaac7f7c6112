"""Silence log lines that native libraries (MediaPipe, LiteRT) write straight to file descriptor 2."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Point fd 2 at /dev/null while the block runs (absl / TFLite write there before any log
    set-up we control, e.g. "INFO: Created TensorFlow Lite XNNPACK delegate for CPU")."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr (some embedded hosts): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
