"""Emotive text descriptions for a labelled clip (the text half of ETTH, paper Sec. 3.3).

Each clip gets several free-text descriptions made from its emotion label and intensity, so the
model learns to read prompts rather than eight fixed labels. By default they are built from the
project's own prompt machinery, `emocast.emotion`: the lexicon's emotion words (synonyms, each with
a strength 0..1, picked near the clip's intensity), its intensity modifiers ("slightly", "very",
"extremely") and the scene exemplars (situations that evoke the emotion without naming it).
When an OpenAI-compatible chat endpoint is configured, an LLM writes them instead, and the
templates are the fallback if it fails.
"""

from __future__ import annotations

import json
import logging
import os
import random
import urllib.request
from dataclasses import dataclass
from functools import lru_cache

from emocast.emotion.plan import EMOTIONS

logger = logging.getLogger(__name__)

LLM_URL_ENV = "EMOCAST_LLM_URL"  # e.g. http://localhost:8000/v1/chat/completions
LLM_MODEL_ENV = "EMOCAST_LLM_MODEL"
LLM_KEY_ENV = "EMOCAST_LLM_KEY"
LLM_TIMEOUT_S = 60
# A word reads as an adjective ("furious", "annoyed", "tearful") with one of these endings; the
# lexicon also holds nouns, adverbs and verbs ("anger", "angrily", "scowls") that templates avoid.
_ADJECTIVE_ENDINGS = ("ed", "ful", "ous", "ive", "ent", "ant", "ish", "ic", "y", "id", "al", "ile", "ary")
_NOT_ADJECTIVES_ENDINGS = ("ly", "ness", "ity", "ety", "edy", "ery", "tion", "ment", "ary")
# The lexicon's intensity words, by the factor it gives them; these read well before an adjective.
_PREFERRED_MODIFIERS = (
    "slightly", "a little", "mildly", "somewhat", "a bit", "quite", "clearly", "visibly", "rather",
    "very", "deeply", "really", "intensely", "extremely", "utterly", "completely", "incredibly",
)
# Intensity bands (0..1 upper bounds) and the words the lexicon scales by about that much.
_BANDS = ((0.4, 0.5), (0.75, 1.15), (1.01, 1.35))
_TEMPLATES_WORD = (
    "{mod}{word}",
    "{a} {mod}{word} face",
    "looking {mod}{word}",
    "feeling {mod}{word} while talking",
    "{a} {mod}{word} expression",
    "speaks in {a} {mod}{word} way",
)
_TEMPLATES_SCENE = ("{scene}", "{scene}, {mod_phrase}", "{scene} and feels {mod}{word}")
_NEUTRAL_TEMPLATES = ("{word}", "{a} {word} face", "looking {word}", "{a} {word}, relaxed expression")


@dataclass
class LLMConfig:
    """An OpenAI-compatible chat completions endpoint that writes descriptions."""

    url: str  # full URL of .../v1/chat/completions
    model: str = "default"
    api_key: str | None = None

    @classmethod
    def from_env(cls) -> "LLMConfig | None":
        """The endpoint named by EMOCAST_LLM_URL (+ _MODEL, _KEY), or None."""
        url = os.environ.get(LLM_URL_ENV)
        if not url:
            return None
        return cls(url=url, model=os.environ.get(LLM_MODEL_ENV, "default"), api_key=os.environ.get(LLM_KEY_ENV))


def describe_emotion(
    emotion: str,
    intensity: float,
    rng: random.Random,
    count: int = 4,
    llm: LLMConfig | None = None,
) -> list[str]:
    """Several different free-text descriptions of an emotion at an intensity.

    Args:
        emotion: one of EMOTIONS.
        intensity: 0..1 (0 = barely, 1 = as strong as it gets; ignored for neutral).
        rng: the random source (seed it for reproducible datasets).
        count: how many descriptions.
        llm: an LLM endpoint; None uses the templates.

    Returns:
        `count` distinct strings (fewer only if the vocabulary runs out).
    """
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}; use one of {', '.join(EMOTIONS)}")
    intensity = min(1.0, max(0.0, float(intensity)))
    if llm is not None:
        try:
            texts = _describe_with_llm(emotion, intensity, count, llm)
            if texts:
                return texts[:count]
        except (OSError, ValueError, KeyError) as e:
            logger.warning("LLM endpoint %s failed (%s); using the template descriptions", llm.url, e)
    return _describe_with_templates(emotion, intensity, rng, count)


def _describe_with_templates(emotion: str, intensity: float, rng: random.Random, count: int) -> list[str]:
    words = emotion_words(emotion)
    scenes = _scenes(emotion)
    texts: list[str] = []
    for _ in range(count * 20):
        if len(texts) == count:
            break
        text = _one_template(emotion, intensity, words, scenes, rng)
        if text not in texts:
            texts.append(text)
    return texts


def _one_template(emotion: str, intensity: float, words, scenes, rng: random.Random) -> str:
    if emotion == "neutral":
        if scenes and rng.random() < 0.4:
            return rng.choice(scenes)
        word = rng.choice(words)[0]
        return rng.choice(_NEUTRAL_TEMPLATES).format(word=word, a=_article(word))
    # synonyms whose own strength is near the target, so "livid" is not used for level 1
    near = sorted(words, key=lambda ws: abs(ws[1] - intensity))[: max(3, len(words) // 3)]
    word, strength = rng.choice(near)
    mod = _modifier(intensity, strength, rng)
    if scenes and rng.random() < 0.35:
        return rng.choice(_TEMPLATES_SCENE).format(
            scene=rng.choice(scenes), mod=mod, word=word, mod_phrase=f"{mod}{word}".strip()
        )
    return rng.choice(_TEMPLATES_WORD).format(mod=mod, word=word, a=_article(mod + word))


def _article(phrase: str) -> str:
    return "an" if phrase[:1].lower() in "aeiou" else "a"


def _modifier(intensity: float, word_strength: float, rng: random.Random) -> str:
    """An intensity word (with a trailing space, or "") that moves the word's strength to the target."""
    from emocast.emotion.lexicon import MODIFIERS

    wanted = intensity / max(word_strength, 0.05)  # the factor the lexicon would need to apply
    if 0.85 <= wanted <= 1.1:
        return ""
    usable = {w: f for w, f in MODIFIERS.items() if w in _PREFERRED_MODIFIERS} or MODIFIERS
    best = min(set(usable.values()), key=lambda f: abs(f - wanted))
    return rng.choice(sorted(w for w, f in usable.items() if f == best)) + " "


@lru_cache(maxsize=None)
def emotion_words(emotion: str) -> tuple[tuple[str, float], ...]:
    """(word, strength 0..1) adjectives of the lexicon that name only this emotion."""
    from emocast.emotion.lexicon import WORDS

    words = []
    for word, (weights, strength) in WORDS.items():
        # full-weight words only: the lexicon's event words ("hired", "fired") weigh less and are no adjectives
        if set(weights) != {emotion} or weights[emotion] < 1.0 or " " in word or "-" in word:
            continue
        if word.endswith(_NOT_ADJECTIVES_ENDINGS) or not word.endswith(_ADJECTIVE_ENDINGS) or word == "hatred":
            continue
        if word.endswith("ied") or len(word) <= 3:  # "died", "cried", "joy", "cry": verbs and nouns
            continue
        words.append((word, float(strength)))
    if not words:  # a lexicon without adjectives for this label still gives the label itself
        words = [(emotion, 0.6)]
    return tuple(sorted(words))


@lru_cache(maxsize=None)
def _scenes(emotion: str) -> tuple[str, ...]:
    try:
        from emocast.emotion.exemplars import EXEMPLARS
    except ImportError:
        return ()
    return tuple(EXEMPLARS.get(emotion, ()))


def _describe_with_llm(emotion: str, intensity: float, count: int, llm: LLMConfig) -> list[str]:
    band = "slight" if intensity < 0.4 else "clear" if intensity < 0.75 else "very strong"
    prompt = (
        f"Write {count} different short descriptions (5-15 words each) of a person talking with a "
        f"{band} '{emotion}' facial expression (intensity {intensity:.2f} on 0..1). Mix situations, "
        "feelings and visible facial details; do not always name the emotion. "
        "Answer with a JSON list of strings only."
    )
    body = json.dumps({"model": llm.model, "messages": [{"role": "user", "content": prompt}], "temperature": 0.9})
    headers = {"Content-Type": "application/json"}
    if llm.api_key:
        headers["Authorization"] = f"Bearer {llm.api_key}"
    request = urllib.request.Request(llm.url, data=body.encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=LLM_TIMEOUT_S) as response:
        reply = json.loads(response.read().decode())
    content = reply["choices"][0]["message"]["content"].strip()
    start, end = content.find("["), content.rfind("]")
    texts = json.loads(content[start : end + 1]) if start >= 0 else []
    return [str(t).strip() for t in texts if str(t).strip()]
