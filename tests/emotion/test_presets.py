"""Presets: at least 40, all eight emotions, each understood as labelled."""

import pytest

from emocast.cli import main
from emocast.emotion.analyze import analyze_prompt
from emocast.emotion.plan import EMOTIONS
from emocast.emotion.presets import get_preset, load_presets
from emocast.errors import EmocastError


def test_presets_cover_all_emotions():
    presets = load_presets()
    assert len(presets) >= 40
    assert {p.emotion for p in presets} == set(EMOTIONS)
    assert len({p.name for p in presets}) == len(presets)
    assert any("timeline" in p.tags for p in presets) and any("mixture" in p.tags for p in presets)


def test_each_preset_gives_its_label():
    wrong = [(p.name, analyze_prompt(p.prompt, p.intensity).emotion) for p in load_presets()]
    wrong = [(name, got) for (name, got), p in zip(wrong, load_presets()) if got != p.emotion]
    assert not wrong


def test_get_preset_and_unknown():
    assert get_preset("glare").emotion == "angry"
    with pytest.raises(EmocastError, match="unknown preset 'nope'"):
        get_preset("nope")


def test_presets_command(capsys):
    assert main(["presets"]) == 0
    assert "dream-job" in capsys.readouterr().out
