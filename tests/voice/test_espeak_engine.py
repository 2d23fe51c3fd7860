"""Tests of the espeak-ng fallback voice, run on the real library from the espeakng-loader wheel."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from avatar.errors import AvatarError
from voice.espeak_engine import (
    ESPEAK_LICENCE,
    VOICE_PREFIX,
    espeak_language,
    espeak_languages,
    espeak_sample_rate,
    espeak_voice_id,
    synthesize_espeak,
)

# One short sentence per writing system: Latin, kana, Hangul and Chinese characters.
SENTENCES = {
    "en": "Good morning, everyone. Thank you for coming.",
    "de": "Guten Morgen, wie geht es dir?",
    "ja": "こんにちは、げんきですか。",
    "ko": "안녕하세요, 반갑습니다.",
    "cmn": "今天天气真好，我们去公园散步吧。",
}


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_spans_tile_waveform(language):
    utterance = synthesize_espeak(SENTENCES[language], language, segment=3)

    assert utterance.voice == f"{VOICE_PREFIX}-{language}"
    assert utterance.sample_rate == 22050
    assert utterance.waveform.dtype == np.float32
    assert utterance.phonemes[0].start == 0
    assert utterance.phonemes[-1].end == len(utterance.waveform)
    for previous, current in zip(utterance.phonemes, utterance.phonemes[1:], strict=False):
        assert current.start == previous.end
        assert current.end > current.start
    utterance.validate()
    assert {phoneme.segment for phoneme in utterance.phonemes} == {3}
    assert utterance.segment_spans == ((0, len(utterance.waveform)),)


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_symbols_are_ipa_and_sil(language):
    symbols = [phoneme.symbol for phoneme in synthesize_espeak(SENTENCES[language], language).phonemes]

    assert all(isinstance(symbol, str) and symbol for symbol in symbols)
    assert "sil" in symbols
    assert len([symbol for symbol in symbols if symbol != "sil"]) >= 10
    # Stress marks, espeak's own mnemonics ("s.", "s-") and language-switch
    # markers ("(en)") must not leak into the symbols.
    assert not [symbol for symbol in symbols if set(symbol) & set("ˈˌ._-()")]


@pytest.mark.parametrize("language", sorted(SENTENCES))
def test_silence_spans_are_silent(language):
    utterance = synthesize_espeak(SENTENCES[language], language)
    waveform = utterance.waveform
    silences = [phoneme for phoneme in utterance.phonemes if phoneme.symbol == "sil"]
    sounds = [phoneme for phoneme in utterance.phonemes if phoneme.symbol != "sil"]

    # espeak-ng writes exact zeros during pauses, so a span that is off by even
    # one phoneme would catch speech.
    for silence in silences:
        assert np.abs(waveform[silence.start : silence.end]).max() == 0.0, silence
    spoken = np.concatenate([waveform[sound.start : sound.end] for sound in sounds])
    assert np.sqrt(np.mean(spoken**2)) > 0.03


def test_sentence_pause_is_sil():
    utterance = synthesize_espeak("One. Two.", "en")
    silences = [phoneme for phoneme in utterance.phonemes if phoneme.symbol == "sil"]
    longest = max(silences, key=lambda phoneme: phoneme.end - phoneme.start)

    # The pause between the sentences lies inside the utterance and lasts over 0.1 s.
    assert 0 < longest.start
    assert longest.end < len(utterance.waveform)
    assert longest.end - longest.start > 0.1 * utterance.sample_rate


def test_mandarin_reads_tones_not_digits():
    # espeak-ng 1.51 (Debian 12) reads the tone digits of its pinyin aloud, but
    # 1.52 speaks only the two syllables.
    utterance = synthesize_espeak("你好", "cmn")
    sounds = [phoneme.symbol for phoneme in utterance.phonemes if phoneme.symbol != "sil"]

    assert sounds == ["n", "i", "χ", "ɑu"]
    assert utterance.duration < 1.0


def test_mandarin_mnemonics_become_ipa():
    symbols = {phoneme.symbol for phoneme in synthesize_espeak("日出，次，色", "cmn").phonemes}

    assert {"ʐ", "ʅ", "ʈʂʰ", "tsʰ", "ɨ", "ɤ"} <= symbols


def test_korean_tense_consonants_become_ipa():
    symbols = {phoneme.symbol for phoneme in synthesize_espeak("까 따 빠 싸", "ko").phonemes}

    assert {"k\u0348", "t\u0348", "p\u0348", "s\u0348"} <= symbols


def test_language_switch_marker_dropped():
    # espeak-ng reads the Japanese long-vowel mark alone through its English voice.
    utterance = synthesize_espeak("ふじさん ー", "ja")
    symbols = [phoneme.symbol for phoneme in utterance.phonemes]

    assert "dʒ" in symbols
    assert not [symbol for symbol in symbols if symbol.startswith("(")]
    utterance.validate()


def test_faster_speed_is_shorter():
    text = "The weather is lovely today, so we are going for a walk in the park."
    normal = synthesize_espeak(text, "en").duration
    fast = synthesize_espeak(text, "en", speed=1.5).duration
    slow = synthesize_espeak(text, "en", speed=0.7).duration

    assert fast <= 0.75 * normal
    assert slow > 1.2 * normal


def test_speed_is_clamped_to_espeak_range():
    text = "Clamping keeps the rate inside the range espeak accepts."
    fastest = synthesize_espeak(text, "en", speed=449 / 175).duration
    slowest = synthesize_espeak(text, "en", speed=80 / 175).duration

    assert synthesize_espeak(text, "en", speed=10.0).duration == fastest
    assert synthesize_espeak(text, "en", speed=0.1).duration == slowest
    assert slowest > 4 * fastest


def test_same_text_gives_same_samples():
    first = synthesize_espeak(SENTENCES["en"], "en")
    # Other messages in between move espeak-ng's internal counters.
    synthesize_espeak(SENTENCES["cmn"], "cmn")
    synthesize_espeak("A different, rather longer sentence in between!", "en")
    second = synthesize_espeak(SENTENCES["en"], "en")

    assert np.array_equal(first.waveform, second.waveform)
    assert first.phonemes == second.phonemes


def test_language_matches_without_case():
    utterance = synthesize_espeak("Hello", "EN-US")

    assert utterance.voice == "espeak-en-us"


def test_unknown_language_raises():
    with pytest.raises(AvatarError) as raised:
        synthesize_espeak("Hello", "klingon")

    assert raised.value.key == "invalid_voice"
    assert raised.value.params["value"] == "espeak-klingon"
    assert "espeak-cmn" in raised.value.params["choices"]
    assert "espeak-klingon" in raised.value.message("zh")


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_text_raises(text):
    with pytest.raises(ValueError, match="no text"):
        synthesize_espeak(text, "en")


@pytest.mark.parametrize("speed", [0.0, -1.0, float("nan"), float("inf")])
def test_invalid_speed_raises(speed):
    with pytest.raises(ValueError, match="speed"):
        synthesize_espeak("Hello", "en", speed=speed)


def test_punctuation_only_raises():
    with pytest.raises(ValueError, match="nothing to speak"):
        synthesize_espeak("...", "en")


def test_languages_listed():
    languages = espeak_languages()

    assert languages == sorted(languages)
    assert {"en", "ja", "ko", "cmn", "de"} <= set(languages)
    # The wheel ships no Faroese dictionary, so that voice would speak nothing.
    assert "fo" not in languages


def test_voice_id_round_trip():
    assert espeak_voice_id("cmn") == "espeak-cmn"
    assert espeak_language("espeak-en-us") == "en-us"
    assert espeak_language("en-joe") is None
    assert espeak_language("espeak-") is None


def test_sample_rate_and_licence():
    assert espeak_sample_rate() == 22050
    assert "GPL-3.0" in ESPEAK_LICENCE


def test_threads_get_serial_results():
    jobs = [(SENTENCES[language], language) for language in sorted(SENTENCES)] * 2
    serial = [synthesize_espeak(text, language) for text, language in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda job: synthesize_espeak(*job), jobs))

    for expected, actual in zip(serial, parallel, strict=True):
        assert actual.voice == expected.voice
        assert np.array_equal(actual.waveform, expected.waveform)
        assert actual.phonemes == expected.phonemes
