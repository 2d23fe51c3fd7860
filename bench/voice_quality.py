"""Measure the voices: TTS real-time factor per voice and English intelligibility per emotion.

Real-time factor (RTF) = wall time of `voice.synthesize` / audio duration, on real
scripts planned by the lexicon (models loaded beforehand); the median of `--runs`
runs is reported. Intelligibility is the word error rate (WER) of pocketsphinx 5.x
(its bundled en-US model) on every English script, spoken sentence by sentence with
each emotion at intensity 1. The reference is the text as the voice reads it:
`voice.normalize.normalize_text`, which writes numbers, times and web addresses in
words, lower case and without punctuation.

    .venv/bin/pip install -e '.[bench]'     # pocketsphinx, once
    .venv/bin/python -m bench.voice_quality [--runs 3] [--seeds 3] [--record]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from math import gcd

import numpy as np

from bench.common import cut_at_sentence, record, require_data, zh_news_scripts
from emotion import EMOTIONS, EmotionPlan, plan_script
from voice import synthesize
from voice.normalize import normalize_text
from voice.synthesize import VOICES

# Targets set by the product owner.
RTF_TARGET = 0.15
NEUTRAL_WER_TARGET = 0.20
EMOTION_WER_MARGIN = 0.05
# Sample rate of pocketsphinx's en-US acoustic model, in Hz.
ASR_SAMPLE_RATE = 16000
# Chinese text for the RTF run: the first news scripts, each cut at a sentence end
# to about this many characters (about 1 min of speech each).
ZH_SCRIPTS = 3
ZH_SCRIPT_CHARS = 300


@dataclass(frozen=True)
class SpeedResult:
    """Real-time factor of one voice.

    Attributes:
        voice: voice id.
        text: what was read.
        audio_seconds: duration of the synthesised speech.
        wall_seconds: wall time of each run of `voice.synthesize`.
    """

    voice: str
    text: str
    audio_seconds: float
    wall_seconds: tuple[float, ...]

    @property
    def rtf(self) -> float:
        return statistics.median(self.wall_seconds) / self.audio_seconds


@dataclass(frozen=True)
class SentenceResult:
    """One sentence spoken with one emotion and transcribed.

    Attributes:
        emotion: emotion label it was spoken with.
        reference: the words the voice reads.
        hypothesis: the words pocketsphinx heard.
        errors: word-level edit distance between the two.
    """

    emotion: str
    reference: tuple[str, ...]
    hypothesis: tuple[str, ...]
    errors: int


# ---- speed


def english_scripts() -> list[tuple[str, str]]:
    """Return (name, text) of every English test script."""
    paths = sorted((require_data() / "scripts_en").glob("*.txt"))
    return [(path.stem, path.read_text(encoding="utf-8")) for path in paths]


def chinese_script() -> str:
    """Join the first Chinese news scripts, each cut at a sentence end."""
    pieces = [cut_at_sentence(text, ZH_SCRIPT_CHARS) for _, text in zh_news_scripts()[:ZH_SCRIPTS]]
    return "\n\n".join(pieces)


def measure_speed(voice: str, language: str, script: str, description: str, runs: int) -> SpeedResult:
    """Time `runs` syntheses of `script` after one untimed warm-up that loads the model."""
    plan = plan_script(script, language)
    synthesize(EmotionPlan(plan.segments[:1], plan.language), voice=voice)
    walls = []
    duration = 0.0
    for run in range(runs):
        started = time.perf_counter()
        utterance = synthesize(plan, voice=voice)
        walls.append(time.perf_counter() - started)
        duration = utterance.duration
        print(f"{voice} run {run + 1}: {walls[-1]:.1f} s for {duration:.1f} s of audio", file=sys.stderr)
    return SpeedResult(voice, description, duration, tuple(walls))


# ---- reference text as the voice reads it

def spoken_words(text: str) -> tuple[str, ...]:
    """Return the words the English voice reads for `text`, lower case and without punctuation.

    `normalize_text` already writes numbers, dates, times and addresses as words, exactly as
    the voice is given them, so the reference needs no spelling rules of its own.
    """
    return normalize_words(normalize_text(text, "en").replace("-", " "))


def normalize_words(text: str) -> tuple[str, ...]:
    """Lower-case, drop punctuation except apostrophes inside words, split on white space."""
    text = re.sub(r"[^a-z0-9']+", " ", text.lower())
    return tuple(word.strip("'") for word in text.split() if word.strip("'"))


def word_errors(reference: tuple[str, ...], hypothesis: tuple[str, ...]) -> int:
    """Count substitutions, deletions and insertions (Levenshtein distance over words)."""
    previous = list(range(len(hypothesis) + 1))
    for i, expected in enumerate(reference, start=1):
        current = [i]
        for j, heard in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (expected != heard)))
        previous = current
    return previous[-1]


# ---- intelligibility


def transcribe(decoder, waveform: np.ndarray, sample_rate: int) -> tuple[str, ...]:
    """Decode one utterance with pocketsphinx after resampling to 16 kHz 16-bit PCM."""
    from scipy.signal import resample_poly

    divisor = gcd(ASR_SAMPLE_RATE, sample_rate)
    samples = resample_poly(waveform.astype(np.float64), ASR_SAMPLE_RATE // divisor, sample_rate // divisor)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return normalize_words(hypothesis.hypstr) if hypothesis is not None else ()


def forced_plan(script: str, emotion: str) -> EmotionPlan:
    """Plan an English script with every sentence, tagged ones included, set to `emotion` at intensity 1."""
    plan = plan_script(script, "en", emotion=(emotion, 1.0))
    segments = tuple(replace(segment, emotion=emotion, intensity=1.0) for segment in plan.segments)
    return replace(plan, segments=segments)


def transcribe_emotion(emotion: str, scripts: list[tuple[str, str]], seed: int = 0) -> Iterator[SentenceResult]:
    """Speak every script with `emotion` (voice noise from `seed`) and transcribe each sentence on its own."""
    from pocketsphinx import Decoder

    # A fresh decoder per emotion, so that its running cepstral mean starts alike for each.
    decoder = Decoder(samprate=ASR_SAMPLE_RATE, loglevel="FATAL")
    for _, script in scripts:
        plan = forced_plan(script, emotion)
        utterance = synthesize(plan, voice="en-joe", seed=seed)
        for segment, (start, end) in zip(plan.segments, utterance.segment_spans, strict=True):
            reference = spoken_words(segment.text)
            hypothesis = transcribe(decoder, utterance.waveform[start:end], utterance.sample_rate)
            yield SentenceResult(emotion, reference, hypothesis, word_errors(reference, hypothesis))


# ---- tables


def speed_table(results: list[SpeedResult], runs: int) -> str:
    lines = [
        "| voice | text | audio s | wall s (median) | RTF | target ≤ 0.15 |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        verdict = "met" if result.rtf <= RTF_TARGET else "missed"
        lines.append(
            f"| {result.voice} | {result.text} | {result.audio_seconds:.1f} | "
            f"{statistics.median(result.wall_seconds):.2f} | {result.rtf:.3f} | {verdict} |"
        )
    return "\n".join(lines)


def wer_table(results: dict[str, list[SentenceResult]]) -> str:
    def rate(sentences: list[SentenceResult]) -> float:
        return sum(s.errors for s in sentences) / sum(len(s.reference) for s in sentences)

    neutral = rate(results["neutral"])
    lines = [
        "| emotion | sentences | words | errors | WER | vs neutral | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for emotion, sentences in results.items():
        wer = rate(sentences)
        if emotion == "neutral":
            verdict = "met" if wer <= NEUTRAL_WER_TARGET else f"missed ({wer:.4f} > {NEUTRAL_WER_TARGET})"
        else:
            verdict = (
                "met"
                if wer - neutral <= EMOTION_WER_MARGIN
                else f"missed ({wer - neutral:+.4f} > +{EMOTION_WER_MARGIN})"
            )
        lines.append(
            f"| {emotion} | {len(sentences)} | {sum(len(s.reference) for s in sentences)} | "
            f"{sum(s.errors for s in sentences)} | {wer:.3f} | {wer - neutral:+.3f} | {verdict} |"
        )
    return "\n".join(lines)


def print_worst(results: dict[str, list[SentenceResult]], count: int = 2) -> None:
    """Print each emotion's sentences with the most errors, to show what the recogniser misheard."""
    for emotion, sentences in results.items():
        for sentence in sorted(sentences, key=lambda s: s.errors / len(s.reference), reverse=True)[:count]:
            print(
                f"[{emotion}] {sentence.errors}/{len(sentence.reference)} errors\n"
                f"  said:  {' '.join(sentence.reference)}\n  heard: {' '.join(sentence.hypothesis)}",
                file=sys.stderr,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed syntheses per voice (median reported)")
    parser.add_argument("--seeds", type=int, default=3,
                        help="voice noise seeds per emotion for WER; errors are pooled over them")
    parser.add_argument("--record", action="store_true", help="append the tables to docs/benchmarks.md")
    options = parser.parse_args()
    if options.runs < 1:
        parser.error("--runs must be at least 1")

    # 1. Speed of each neural voice on real text.
    scripts = english_scripts()
    english_text = "\n\n".join(text for _, text in scripts)
    speed = [
        measure_speed(
            "zh-baker",
            "zh",
            chinese_script(),
            f"{ZH_SCRIPTS} zh news scripts, ≤ {ZH_SCRIPT_CHARS} chars each",
            options.runs,
        ),
        measure_speed("en-joe", "en", english_text, f"all {len(scripts)} English scripts", options.runs),
    ]

    # 2. Intelligibility of the English voice for each emotion. The voice's noise changes
    #    the WER by about ±0.02 from seed to seed (0.159 to 0.205 for neutral over seeds
    #    0 to 3), so errors are pooled over several seeds.
    transcripts: dict[str, list[SentenceResult]] = {}
    for emotion in EMOTIONS:
        started = time.perf_counter()
        transcripts[emotion] = [result for seed in range(options.seeds)
                                for result in transcribe_emotion(emotion, scripts, seed)]
        print(
            f"{emotion}: {len(transcripts[emotion])} sentences in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    print_worst(transcripts)

    # 3. Report.
    table = speed_table(speed, options.runs) + "\n\n" + wer_table(transcripts)
    print(table)
    if options.record:
        voices = ", ".join(f"{info.id} ({info.sample_rate} Hz)" for info in VOICES.values())
        notes = (
            f"Voices: {voices}. RTF: median of {options.runs} timed runs of `voice.synthesize` on lexicon-planned "
            "scripts, after a warm-up that loads the model. WER: pocketsphinx 5.1.1 with its bundled en-US model "
            "on 16 kHz audio, every English script spoken sentence by sentence with each emotion at intensity 1, "
            f"with voice noise seeds 0 to {options.seeds - 1} (errors pooled); the reference is the text as the "
            "voice reads it (`voice.normalize.normalize_text`). Targets: RTF ≤ 0.15, neutral WER ≤ 0.20, "
            "no emotion more than 0.05 above neutral."
        )
        record(
            "Voice quality",
            f".venv/bin/python -m bench.voice_quality --runs {options.runs} --seeds {options.seeds}",
            notes,
            table,
        )


if __name__ == "__main__":
    main()
