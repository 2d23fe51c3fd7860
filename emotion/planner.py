"""Turn a script into an `EmotionPlan`: sentences, languages, labels and pauses."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from avatar.errors import AvatarError
from emotion.arc import DEFAULT_PRESET, PRESETS, SentenceEvidence, smooth
from emotion.classifier import Prediction
from emotion.lexicon import label_sentence
from emotion.segment import (
    InlineTag,
    RawSentence,
    detect_language,
    foreign_script_language,
    has_language_evidence,
    read_sentences,
    speech_units,
)
from emotion.ssml import SsmlSentence, is_ssml, parse_ssml
from emotion.types import EMOTIONS, VALENCE_AROUSAL, EmotionPlan, Language, Notice, Prosody, Segment

if TYPE_CHECKING:
    from emotion.planfile import EditedPlan

logger = logging.getLogger(__name__)

# "none" labels every sentence neutral, for callers that only need sentences and languages.
Labeller = Literal["classifier", "lexicon", "none"]

# Punctuation that ends a sentence, possibly followed by closing quotes or brackets.
_ENDS_SENTENCE = re.compile(r"[。！？!?.…；;][\"'”’)\]」』]*\s*$")
# Message key for a sentence whose language differs from the voice's, by voice language.
_OTHER_LANGUAGE_NOTICE = {"zh": "warn_english_for_chinese_voice", "en": "warn_chinese_for_english_voice"}

# Intensity given to an inline tag or override that names no intensity.
DEFAULT_OVERRIDE_INTENSITY = 0.7
# Silence after a sentence, in ms, by how it ends. Longer after a paragraph, because
# listeners hear a paragraph break as a topic change.
PAUSE_MS = {"sentence": 350, "question": 400, "clause": 250, "paragraph": 700, "last": 400}


def parse_emotion(value: str) -> tuple[str, float]:
    """Parse `LABEL[:INTENSITY]` (for example "happy" or "sad:0.8") into a label and intensity."""
    from emotion.segment import LABEL_ALIASES

    label_text, _, intensity_text = value.partition(":")
    label = LABEL_ALIASES.get(label_text.strip().lower())
    if label is None:
        raise AvatarError("invalid_emotion", value=value, choices=", ".join(EMOTIONS))
    if not intensity_text.strip():
        return label, DEFAULT_OVERRIDE_INTENSITY
    try:
        intensity = float(intensity_text)
    except ValueError:
        raise AvatarError("invalid_intensity", value=intensity_text) from None
    if not 0.0 <= intensity <= 1.0:
        raise AvatarError("invalid_intensity", value=intensity_text)
    return label, intensity


def plan_script(
    script: str,
    language: str = "auto",
    emotion: tuple[str, float] | None = None,
    voice: str | None = None,
    preset: str = DEFAULT_PRESET,
    labeller: Labeller = "classifier",
    edited: EditedPlan | None = None,
) -> EmotionPlan:
    """Split `script` into sentences and give each an emotion.

    Args:
        script: plain text, where blank lines separate paragraphs and inline tags such as
            `[happy]` or `[sad:0.8]` at the start of a sentence set that sentence's emotion;
            or an SSML document (starting with `<speak` or `<?xml`), see `emotion.ssml`.
        language: "auto" (detect), "zh" or "en": the main language, which selects the voice.
        emotion: (label, intensity) applied to every sentence without an inline tag, as
            `avatar say --emotion` does; None labels each sentence with the lexicon.
        voice: the voice that will speak the plan, when the caller chose one; an espeak-ng
            voice gets no notices about sentences outside the main language.
        preset: a style in `emotion.arc.PRESETS` ("news", "vlog", "storytelling").
        labeller: "classifier" (the trained model in checkpoints/), "lexicon", or "none"
            (all neutral, when only the sentences and languages are needed).
        edited: a plan file the user edited (`emotion.planfile`); its labels replace the
            classifier's, and inline tags and SSML still override it.

    Raises:
        AvatarError: an unsupported `language`, or nothing speakable in the script.
    """
    # 1. Check the arguments.
    if language not in ("auto", "zh", "en"):
        raise AvatarError("invalid_language", value=language)
    if preset not in PRESETS:
        raise AvatarError("invalid_preset", value=preset, choices=", ".join(PRESETS))

    # 2. Split into sentences and read inline tags, or read the SSML markup.
    ssml = is_ssml(script)
    extras: list[_SentenceExtras] = []
    if ssml:
        sentences, extras = _from_ssml(parse_ssml(script))
    else:
        sentences = read_sentences(script)
    if not sentences:
        raise AvatarError("script_empty")
    if edited is not None:
        edited.check_matches([sentence.text for sentence in sentences])

    # 3. Label each sentence: explicit emotions first (inline tag or SSML, then an edited plan,
    #    then --emotion), the classifier for the rest, then the preset's arc over the script.
    #    SSML may cut one sentence into pieces where prosody or emphasis changes; the classifier
    #    reads the whole sentence, so all its pieces share one prediction.
    notices: list[Notice] = []
    whole_texts = _whole_sentence_texts(sentences, extras)
    languages = [detect_language(text) for text in whole_texts]
    fixed = [_fixed_emotion(index, sentence, emotion, edited) for index, sentence in enumerate(sentences)]
    predictions = iter(_predict([text for text, given in zip(whole_texts, fixed, strict=True) if given is None],
                                [lang for lang, given in zip(languages, fixed, strict=True) if given is None], labeller))
    evidence, polarities = [], []
    for index, sentence in enumerate(sentences):
        notices.extend(_tag_notices(index, sentence))
        if fixed[index] is not None:
            label, intensity, _ = fixed[index]
            probabilities = tuple(float(name == label) for name in EMOTIONS)
            polarities.append(0.0)
        else:
            prediction = next(predictions)
            label, intensity, probabilities = prediction.label, prediction.intensity, prediction.probabilities
            polarities.append(sum(p * VALENCE_AROUSAL[name][0] for p, name in zip(probabilities, EMOTIONS, strict=True)))
        evidence.append(SentenceEvidence(probabilities, intensity, sentence.paragraph,
                                         speech_units(whole_texts[index]), languages[index],
                                         fixed=fixed[index] is not None))
    style = PRESETS[preset]
    decisions = smooth(evidence, style)

    segments: list[Segment] = []
    for index, sentence in enumerate(sentences):
        decision = decisions[index]
        if fixed[index] is not None:
            source = fixed[index][2]
        else:
            source = "preset" if decision.changed else labeller
        segment = _make_segment(index, sentence, languages[index], decision.label, decision.intensity, source,
                                polarities[index], is_last=index == len(sentences) - 1)
        if extras:
            segment = _with_ssml_extras(segment, sentence, extras[index])
        segments.append(segment)

    # 4. Choose the main language by how much of the script each language speaks. It selects
    #    the one voice of the render, so sentences in the other language get a notice.
    main_language = language if language != "auto" else _main_language(segments)
    segments = [segment if has_language_evidence(segment.text) else replace(segment, language=main_language)
                for segment in segments]
    if voice is None or not voice.startswith("espeak-"):
        # An espeak-ng voice reads its own language whatever the script's main language is.
        notices.extend(_language_notices(segments, main_language))
    logger.info(
        "planned %d sentences, main language %s, emotions %s",
        len(segments), main_language, ", ".join(f"{s.emotion}:{s.intensity:.2f}" for s in segments),
    )
    return EmotionPlan(segments=tuple(segments), language=main_language, warnings=tuple(notices),
                       preset=preset, ramp_ms=style.ramp_ms)


def _fixed_emotion(
    index: int, sentence: RawSentence, emotion: tuple[str, float] | None, edited: EditedPlan | None
) -> tuple[str, float, str] | None:
    """(label, intensity, source) of a sentence whose emotion was set explicitly, else None."""
    if sentence.tag is not None:
        intensity = sentence.tag.intensity if sentence.tag.intensity is not None else DEFAULT_OVERRIDE_INTENSITY
        label, source = sentence.tag.emotion, "override"
    elif edited is not None:
        label, intensity = edited.emotions[index]
        source = "plan"
    elif emotion is not None:
        (label, intensity), source = emotion, "override"
    else:
        return None
    # Neutral has no strength: a tag such as [neutral:0.9] means plain neutral.
    return label, 0.0 if label == "neutral" else intensity, source


def _predict(texts: list[str], languages: list[Language], labeller: Labeller) -> list[Prediction]:
    """Predictions for `texts` in order, each language through its own classifier in one batch."""
    if labeller == "none":
        neutral = tuple(float(name == "neutral") for name in EMOTIONS)
        return [Prediction("neutral", neutral, 1.0, 0.0) for _ in texts]
    if labeller == "lexicon":
        results = [label_sentence(text, lang) for text, lang in zip(texts, languages, strict=True)]
        return [Prediction(r.emotion, tuple(float(name == r.emotion) for name in EMOTIONS), 1.0, r.intensity)
                for r in results]
    from emotion.classifier import predict_by_language

    return predict_by_language(texts, languages)


@dataclass(frozen=True)
class _SentenceExtras:
    """SSML additions to a sentence beyond its text, paragraph and emotion."""

    spoken_text: str
    prosody: Prosody
    pause_after_ms: int | None
    pause_before_ms: int = 0


def _from_ssml(parsed: list[SsmlSentence]) -> tuple[list[RawSentence], list[_SentenceExtras]]:
    """Turn parsed SSML sentences into the planner's sentences, plus their SSML extras."""
    sentences, extras = [], []
    for position, item in enumerate(parsed):
        last_in_paragraph = position == len(parsed) - 1 or parsed[position + 1].paragraph != item.paragraph
        tag = InlineTag(item.emotion, item.intensity) if item.emotion is not None else None
        sentences.append(RawSentence(text=item.text, paragraph=item.paragraph, last_in_paragraph=last_in_paragraph,
                                     tag=tag))
        extras.append(_SentenceExtras(item.spoken_text, item.prosody, item.pause_after_ms, item.pause_before_ms))
    return sentences, extras


def _runs_on(sentence: RawSentence, extra: _SentenceExtras | None) -> bool:
    """Return whether an SSML piece continues into the next one (a mid-sentence split)."""
    return (extra is not None and extra.pause_after_ms is None and not sentence.last_in_paragraph
            and not _ENDS_SENTENCE.search(sentence.text))


def _whole_sentence_texts(sentences: list[RawSentence], extras: list[_SentenceExtras]) -> list[str]:
    """Return, for each sentence or SSML piece, the text of the whole sentence it belongs to."""
    texts: list[str] = []
    group: list[str] = []
    for index, sentence in enumerate(sentences):
        group.append(sentence.text)
        if not _runs_on(sentence, extras[index] if extras else None):
            texts.extend([" ".join(group)] * len(group))
            group = []
    texts.extend([" ".join(group)] * len(group))
    return texts


def _with_ssml_extras(segment: Segment, sentence: RawSentence, extra: _SentenceExtras) -> Segment:
    fixed = extra.pause_after_ms is not None
    if fixed:
        pause = extra.pause_after_ms
    elif _runs_on(sentence, extra):
        # A sentence split where prosody or emphasis changes mid-sentence runs straight on.
        pause = 0
    else:
        pause = segment.pause_after_ms
    spoken = extra.spoken_text if extra.spoken_text != segment.text else None
    return replace(segment, spoken_text=spoken, prosody=extra.prosody, pause_after_ms=pause, pause_fixed=fixed,
                   pause_before_ms=extra.pause_before_ms)


def _tag_notices(index: int, sentence: RawSentence) -> list[Notice]:
    notices = []
    if sentence.unknown_tag is not None:
        notices.append(Notice("warn_unknown_tag", {"index": index + 1, "tag": sentence.unknown_tag,
                                                   "choices": ", ".join(EMOTIONS)}))
    if sentence.bad_intensity is not None:
        notices.append(Notice("warn_bad_tag_intensity", {"index": index + 1, "value": sentence.bad_intensity,
                                                         "default": DEFAULT_OVERRIDE_INTENSITY}))
    # The caller shows notices to the user in their language; the log keeps an English copy.
    for notice in notices:
        logger.info("%s", notice.message("en"))
    return notices


def _language_notices(segments: list[Segment], voice_language: Language) -> list[Notice]:
    """Warn about sentences in the other language than the voice's."""
    notices = []
    for segment in segments:
        foreign = foreign_script_language(segment.text)
        if foreign is not None:
            notices.append(Notice("warn_foreign_script", {"index": segment.index + 1,
                                                          "voice": f"espeak-{foreign}"}))
        if segment.language == voice_language:
            continue
        notice = Notice(_OTHER_LANGUAGE_NOTICE[voice_language], {"index": segment.index + 1})
        notices.append(notice)
        logger.info("%s", notice.message("en"))
    return notices


def _make_segment(
    index: int,
    sentence: RawSentence,
    language: Language,
    label: str,
    intensity: float,
    source: str,
    polarity: float,
    is_last: bool,
) -> Segment:
    valence, arousal = VALENCE_AROUSAL[label]
    if label == "neutral":
        # Lexicon polarity without a clear emotion still tilts valence a little.
        valence = 0.2 * polarity
    return Segment(
        index=index,
        text=sentence.text,
        language=language,
        emotion=label,
        intensity=float(intensity),
        valence=round(valence * (intensity if label != "neutral" else 1.0), 3),
        arousal=round(arousal * intensity, 3),
        source=source,  # type: ignore[arg-type]
        paragraph=sentence.paragraph,
        pause_after_ms=_pause_after(sentence, is_last),
    )


def _pause_after(sentence: RawSentence, is_last: bool) -> int:
    if is_last:
        return PAUSE_MS["last"]
    if sentence.last_in_paragraph:
        return PAUSE_MS["paragraph"]
    end = sentence.text.rstrip("\"'”’)]」』")[-1:]
    if end in "?？!！":
        return PAUSE_MS["question"]
    if end in ";；":
        return PAUSE_MS["clause"]
    return PAUSE_MS["sentence"]


def _main_language(segments: list[Segment]) -> Language:
    weight = {"zh": 0, "en": 0}
    for segment in segments:
        weight[segment.language] += speech_units(segment.text)
    return "zh" if weight["zh"] >= weight["en"] else "en"
