"""Tokens and vocabularies for the emotion models trained from scratch.

Chinese is read character by character, because Weibo text defeats word segmenters (slang,
emoji names, code-switching) and characters already carry most of the meaning. Latin words are
one token each, lower-cased, in both languages. Digit runs collapse to one token, and runs of
the same punctuation mark ("！！！", "...") keep up to three marks, because repetition is signal.

A `Vocabulary` maps tokens to ids (0 = padding, 1 = unknown) and also hashes each adjacent
token pair into `bigram_buckets` extra ids, so a model reads 不错 or "not good" as one unit
without a second, unbounded vocabulary.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

PAD, UNK = 0, 1
_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"  # one CJK character
    r"|[A-Za-z]+(?:'[A-Za-z]+)?"  # a Latin word, with an apostrophe part (don't)
    r"|\d+(?:[.,]\d+)*"  # a number
    r"|(\S)\1{0,2}"  # any other mark, with up to two repeats
)


def tokenize(text: str) -> list[str]:
    """Tokens of one text (see the module docstring)."""
    tokens = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token[0].isdigit():
            token = "<num>"
        tokens.append(token.lower())
    return tokens


@dataclass
class Vocabulary:
    """Token ids for one trained model.

    Attributes:
        tokens: id -> token for ids 2..; ids 0 and 1 are padding and unknown.
        bigram_buckets: number of hashed ids for token pairs after the token ids; 0 turns pairs off.
    """

    tokens: list[str]
    bigram_buckets: int = 0

    def __post_init__(self) -> None:
        self._ids = {token: index + 2 for index, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, texts: Iterable[str], min_count: int = 2, bigram_buckets: int = 0) -> Vocabulary:
        counts = Counter(token for text in texts for token in tokenize(text))
        kept = sorted((token for token, count in counts.items() if count >= min_count), key=lambda t: (-counts[t], t))
        return cls(kept, bigram_buckets)

    @property
    def size(self) -> int:
        return len(self.tokens) + 2 + self.bigram_buckets

    def encode(self, text: str, max_tokens: int) -> tuple[list[int], list[int]]:
        """Token ids and hashed pair ids (empty without buckets), both cut to `max_tokens`."""
        tokens = tokenize(text)[:max_tokens] or ["<empty>"]
        ids = [self._ids.get(token, UNK) for token in tokens]
        if not self.bigram_buckets:
            return ids, []
        base = len(self.tokens) + 2
        # crc32 rather than hash(): Python salts str hashes per process, and ids must be stable.
        pairs = [base + zlib.crc32(f"{a}\t{b}".encode()) % self.bigram_buckets for a, b in zip(tokens, tokens[1:], strict=False)]
        return ids, pairs or [PAD]
