"""The one check behind every optional metric whose weights the user supplies (ArcFace, FID, SyncNet)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path


def user_weights_reason(env: str, missing: str, module: str, install: str) -> str | None:
    """Why a user-supplied model cannot run here, or None when it can.

    Args:
        env: environment variable holding the weights path.
        missing: the message when the variable is unset.
        module: the Python module the model runs on (checked without importing it).
        install: the message when that module is not installed.
    """
    path = os.environ.get(env)
    if not path:
        return missing
    if not Path(path).is_file():
        return f"{env}={path} is not a file"
    if importlib.util.find_spec(module) is None:
        return install
    return None
