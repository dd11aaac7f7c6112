"""EmoCAST Studio: emotional talking portraits from a photo, speech and an emotive text prompt.

Public API (each import is lazy so ``import emocast`` stays cheap and never imports torch)::

    import emocast
    plan = emocast.analyze_prompt("she just got her dream job", intensity=0.8)
    path = emocast.generate("portrait.jpg", "speech.wav", "brows knit, glaring", out="out.mp4")
    metrics = emocast.evaluate("out.mp4", reference="portrait.jpg")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # pragma: no cover
    from emocast.emotion.analyze import analyze_prompt
    from emocast.errors import EmocastError
    from emocast.evaluation.evaluate import evaluate
    from emocast.options import GenerateOptions
    from emocast.pipeline import generate

_LAZY = {
    "generate": ("emocast.pipeline", "generate"),
    "GenerateOptions": ("emocast.options", "GenerateOptions"),
    "analyze_prompt": ("emocast.emotion.analyze", "analyze_prompt"),
    "evaluate": ("emocast.evaluation.evaluate", "evaluate"),
    "EmocastError": ("emocast.errors", "EmocastError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(f"module 'emocast' has no attribute {name!r}")
