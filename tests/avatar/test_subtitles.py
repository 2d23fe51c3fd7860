"""Subtitle cues: splitting long sentences, timing by phonemes, SRT output."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

from avatar.errors import AvatarError
from avatar.subtitles import (
    MAX_CUE_UNITS,
    Cue,
    cues_from_utterance,
    display_width,
    format_srt,
    format_timestamp,
    split_cue_ranges,
    write_srt,
)
from emotion.types import EmotionPlan, Segment
from voice.types import Phoneme, Utterance

SAMPLE_RATE = 22050
SRT_TIME = r"\d{2}:\d{2}:\d{2},\d{3}"


def make_segment(index: int, text: str, language: str) -> Segment:
    return Segment(index, text, language, "neutral", 0.5, 0.0, 0.0, "lexicon")  # type: ignore[arg-type]


def make_utterance(pieces: list[tuple[str, int, int]], segment_spans: list[tuple[int, int]]) -> Utterance:
    """Build an utterance from (symbol, samples, segment) pieces laid end to end."""
    phonemes = []
    position = 0
    for symbol, length, segment in pieces:
        phonemes.append(Phoneme(symbol, position, position + length, segment))
        position += length
    utterance = Utterance(
        waveform=np.zeros(position, dtype=np.float32),
        sample_rate=SAMPLE_RATE,
        phonemes=tuple(phonemes),
        segment_spans=tuple(segment_spans),
        voice="test",
    )
    utterance.validate()
    return utterance


def test_split_keeps_text_and_limit():
    text = "今天的天气非常好，阳光明媚，万里无云，我们决定一起去城外的公园散步，顺便看看新开的花展，然后回家吃饭。"
    ranges = split_cue_ranges(text)
    parts = [text[start:end] for start, end in ranges]
    assert len(parts) > 1
    assert "".join(parts) == text
    for part in parts:
        assert display_width(part.strip()) <= MAX_CUE_UNITS
    # Every cut falls after clause punctuation, since each clause fits on its own.
    for part in parts[:-1]:
        assert part[-1] in "，。"


def test_split_balances_parts():
    text = "一二三四五六七八九十，一二三四五六七八九十，一二三四五六七八九十。"
    parts = [text[start:end] for start, end in split_cue_ranges(text, max_units=22)]
    assert len(parts) == 2
    # 11 + 22 units would also fit; an even split reads better.
    assert abs(display_width(parts[0]) - display_width(parts[1])) <= 11


def test_split_english_between_words():
    text = (
        "Our new support hours start on Monday and run from eight in the morning until "
        "late in the evening every single weekday of the year"
    )
    parts = [text[start:end].strip() for start, end in split_cue_ranges(text)]
    assert len(parts) >= 2
    assert " ".join(parts) == text
    words = set(text.split())
    for part in parts:
        assert display_width(part) <= MAX_CUE_UNITS
        assert set(part.split()) <= words


def test_split_ignores_number_commas():
    text = "Revenue rose to 1,234,567 dollars."
    assert split_cue_ranges(text) == [(0, len(text))]


def test_cues_cover_segment_spans():
    plan = EmotionPlan(
        segments=(make_segment(0, "你好。", "zh"), make_segment(1, "再见。", "zh")),
        language="zh",
    )
    pieces = [
        ("sil", 1000, 0), ("n", 800, 0), ("i3", 2000, 0), ("h", 600, 0), ("ao3", 2400, 0), ("sil", 5000, 0),
        ("z", 700, 1), ("ai4", 2100, 1), ("j", 500, 1), ("ian4", 2600, 1), ("sil", 3000, 1),
    ]  # fmt: skip
    spans = [(1000, 6800), (11800, 17700)]
    cues = cues_from_utterance(plan, make_utterance(pieces, spans))
    assert [cue.index for cue in cues] == [1, 2]
    assert [(cue.start_sample, cue.end_sample) for cue in cues] == spans
    assert [cue.text for cue in cues] == ["你好。", "再见。"]


def test_chinese_cues_timed_by_syllables():
    text = "今天天气很好，阳光也很温暖，我们一起去公园散步吧，你觉得怎么样？"
    syllables = [
        ("j", "in1"), ("t", "ian1"), ("t", "ian1"), ("q", "i4"), ("h", "en3"), ("h", "ao3"),
        ("y", "ang2"), ("g", "uang1"), ("y", "e3"), ("h", "en3"), ("w", "en1"), ("n", "uan3"),
        ("", "uo3"), ("m", "en5"), ("", "i4"), ("q", "i3"), ("q", "v4"), ("g", "ong1"), ("", "van2"),
        ("s", "an4"), ("b", "u4"), ("b", "a5"),
        ("n", "i3"), ("j", "ve2"), ("d", "e5"), ("z", "en3"), ("m", "e5"), ("", "iang4"),
    ]  # fmt: skip
    rng = np.random.default_rng(3)
    pieces: list[tuple[str, int, int]] = [("sil", 500, 0)]
    syllable_starts = []
    position = 500
    for initial, final in syllables:
        # No pauses at the commas, so only the syllable mapping can find the boundaries.
        syllable_starts.append(position)
        for symbol in (initial, final):
            if symbol:
                length = int(rng.integers(500, 3000))
                pieces.append((symbol, length, 0))
                position += length
    span = (500, position)
    pieces.append(("sil", 2000, 0))
    plan = EmotionPlan(segments=(make_segment(0, text, "zh"),), language="zh")

    cues = cues_from_utterance(plan, make_utterance(pieces, [span]))

    assert len(cues) >= 2
    assert "".join(cue.text for cue in cues) == text
    assert cues[0].start_sample == span[0]
    assert cues[-1].end_sample == span[1]
    for previous, cue in zip(cues, cues[1:], strict=False):
        assert previous.end_sample == cue.start_sample
        # A cue starts where the syllable of its first Han character starts.
        first_han = len(re.findall(r"[\u4e00-\u9fff]", text[: text.index(cue.text)]))
        assert cue.start_sample == syllable_starts[first_han]


def test_english_boundary_snaps_to_pause():
    text = "Thanks for calling our support line this morning, an agent will answer in about two minutes."
    comma = text.index(",") + 1
    span_start, span_end = 1000, 101_000
    # Proportional timing would put the boundary near 54 % of the span; the
    # pause sits a little later, which is where the speaker really paused.
    pause_start, pause_end = 60_000, 64_000
    pieces = [
        ("sil", 1000, 0), ("ð", pause_start - 1000, 0), ("sil", pause_end - pause_start, 0),
        ("ɛ", span_end - pause_end, 0), ("sil", 4000, 0),
    ]  # fmt: skip
    plan = EmotionPlan(segments=(make_segment(0, text, "en"),), language="en")

    cues = cues_from_utterance(plan, make_utterance(pieces, [(span_start, span_end)]))

    assert [cue.text for cue in cues] == [text[:comma].strip(), text[comma:].strip()]
    assert cues[0].start_sample == span_start
    assert cues[1].start_sample == pause_end
    assert cues[1].end_sample == span_end


def test_english_boundary_proportional_without_pause():
    text = "Thanks for calling our support line this morning, an agent will answer in about two minutes."
    comma = text.index(",") + 1
    span_start, span_end = 0, 100_000
    pieces = [("ð", span_end, 0)]
    plan = EmotionPlan(segments=(make_segment(0, text, "en"),), language="en")

    cues = cues_from_utterance(plan, make_utterance(pieces, [(span_start, span_end)]))

    assert len(cues) == 2
    letters_before = sum(char.isalnum() for char in text[:comma])
    letters_total = sum(char.isalnum() for char in text)
    expected = span_end * letters_before / letters_total
    assert abs(cues[1].start_sample - expected) <= 0.01 * span_end


def test_cues_reject_span_count_mismatch():
    plan = EmotionPlan(segments=(make_segment(0, "Hello.", "en"),), language="en")
    utterance = make_utterance([("h", 100, 0)], [(0, 50), (50, 100)])
    with pytest.raises(AvatarError) as caught:
        cues_from_utterance(plan, utterance)
    assert caught.value.key == "timeline_mismatch"


def test_timestamp_rounds_to_milliseconds():
    assert format_timestamp(0, SAMPLE_RATE) == "00:00:00,000"
    assert format_timestamp(3661 * SAMPLE_RATE + SAMPLE_RATE // 2, SAMPLE_RATE) == "01:01:01,500"
    # 11 samples at 22050 Hz are 0.4989 ms, which rounds down; 12 are 0.544 ms.
    assert format_timestamp(11, SAMPLE_RATE) == "00:00:00,000"
    assert format_timestamp(12, SAMPLE_RATE) == "00:00:00,001"


def test_srt_format_and_utf8():
    cues = [
        Cue(1, 0, 33075, "你好，世界。"),
        Cue(2, 33075, 66150, "Line with\nbreak"),
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.srt"
        write_srt(cues, SAMPLE_RATE, path)
        content = path.read_bytes().decode("utf-8")
        assert os.listdir(folder) == ["out.srt"]

    blocks = content.strip().split("\n\n")
    assert len(blocks) == 2
    for number, block in enumerate(blocks, start=1):
        lines = block.split("\n")
        assert lines[0] == str(number)
        assert re.fullmatch(rf"{SRT_TIME} --> {SRT_TIME}", lines[1])
        assert len(lines) == 3
    assert blocks[0].split("\n")[1] == "00:00:00,000 --> 00:00:01,500"
    assert blocks[0].split("\n")[2] == "你好，世界。"
    assert blocks[1].split("\n")[2] == "Line with break"


def test_srt_renumbers_from_one():
    text = format_srt([Cue(7, 0, 100, "a"), Cue(9, 100, 200, "b")], 1000)
    assert [block.split("\n")[0] for block in text.strip().split("\n\n")] == ["1", "2"]


def test_srt_creates_missing_folder():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "new-folder" / "out.srt"
        write_srt([Cue(1, 0, 100, "a")], SAMPLE_RATE, path)
        assert path.read_text(encoding="utf-8").startswith("1\n")
        assert os.listdir(path.parent) == ["out.srt"]


def test_srt_write_failure_leaves_nothing():
    with tempfile.TemporaryDirectory() as folder:
        blocker = Path(folder) / "not-a-folder"
        blocker.write_text("x", encoding="utf-8")
        with pytest.raises(AvatarError) as caught:
            write_srt([Cue(1, 0, 100, "a")], SAMPLE_RATE, blocker / "out.srt")
        assert caught.value.key == "output_dir_failed"
        assert os.listdir(folder) == ["not-a-folder"]
