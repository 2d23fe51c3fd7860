"""Turn a script into an `EmotionPlan`: sentences, languages, labels and pauses."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from avatar.errors import AvatarError
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

logger = logging.getLogger(__name__)

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

    Raises:
        AvatarError: an unsupported `language`, or nothing speakable in the script.
    """
    # 1. Check the arguments.
    if language not in ("auto", "zh", "en"):
        raise AvatarError("invalid_language", value=language)

    # 2. Split into sentences and read inline tags, or read the SSML markup.
    ssml = is_ssml(script)
    extras: list[_SentenceExtras] = []
    if ssml:
        sentences, extras = _from_ssml(parse_ssml(script))
    else:
        sentences = read_sentences(script)
    if not sentences:
        raise AvatarError("script_empty")

    # 3. Label each sentence.
    segments: list[Segment] = []
    notices: list[Notice] = []
    # SSML may cut one sentence into pieces where prosody or emphasis changes; the lexicon
    # reads the whole sentence, so all its pieces share one label.
    whole_texts = _whole_sentence_texts(sentences, extras)
    for index, sentence in enumerate(sentences):
        segment_language = detect_language(whole_texts[index])
        notices.extend(_tag_notices(index, sentence))
        if sentence.tag is not None:
            label = sentence.tag.emotion
            intensity = sentence.tag.intensity if sentence.tag.intensity is not None else DEFAULT_OVERRIDE_INTENSITY
            source, polarity = "override", 0.0
        elif emotion is not None:
            label, intensity = emotion
            source, polarity = "override", 0.0
        else:
            result = label_sentence(whole_texts[index], segment_language)
            label, intensity, source, polarity = result.emotion, result.intensity, "lexicon", result.polarity
        if label == "neutral":
            intensity = 0.0  # neutral has no strength: a tag such as [neutral:0.9] means plain neutral
        segment = _make_segment(index, sentence, segment_language, label, intensity, source, polarity,
                                is_last=index == len(sentences) - 1)
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
    return EmotionPlan(segments=tuple(segments), language=main_language, warnings=tuple(notices))


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
