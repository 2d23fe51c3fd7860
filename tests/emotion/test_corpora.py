"""The corpus readers map every source into the one label space, as ARCHITECTURE.md fixes."""

import re
from collections import Counter
from pathlib import Path

import pytest

from emotion import corpora
from emotion.types import EMOTIONS

ROOT = corpora.data_root()
pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason="../shared/data is not checked out beside the repository")


def test_smp2020_maps_all_rows_and_has_no_disgust():
    rows = list(corpora.read_smp2020(ROOT / corpora.SMP2020_FILE))
    assert len(rows) == 7315
    counts = Counter(row.primary for row in rows)
    assert set(counts) == {"neutral", "happy", "sad", "angry", "fearful", "surprised"}
    assert counts["neutral"] == 1231  # the release spells it "neural"


def test_nlpcc_rows_joined_and_multi_label():
    rows = list(corpora.read_nlpcc(ROOT / corpora.NLPCC_FILE))
    assert len(rows) == 6000
    first = rows[0]
    # Segmenter spaces between Chinese characters are gone; spaces between English words stay.
    assert first.text == "对比了一下！决定入手mv800！tr100完全是虚高！那么多人抢！导致多处断货！love life！"
    both = rows[2]
    assert both.labels == ("happy", "surprised")
    assert both.primary == "surprised"  # the higher-arousal label is the one evaluated
    # Split HTML entities ("& # 39 ;") are rejoined and decoded.
    assert not any(re.search(r"&\s*#\s*\d", row.text) for row in rows)
    assert any("i won't give up" in row.text for row in rows)
    assert Counter(len(row.labels) for row in rows)[1] > 4000


def test_strongest_label_rule():
    assert corpora.strongest(["happy", "surprised"]) == "surprised"
    assert corpora.strongest(["sad", "fearful"]) == "fearful"
    assert corpora.strongest(["surprised", "angry"]) == "angry"  # same arousal: the negative one
    assert corpora.strongest(["neutral"]) == "neutral"


def test_chinese_dev_split_is_stable_and_disjoint():
    train, dev = corpora.load("zh", "train"), corpora.load("zh", "dev")
    keys_train = {(row.source, row.key) for row in train}
    keys_dev = {(row.source, row.key) for row in dev}
    assert not keys_train & keys_dev
    assert len(train) + len(dev) == 7315 + 6000
    assert 0.13 < len(dev) / (len(train) + len(dev)) < 0.17
    assert [row.key for row in corpora.load("zh", "dev")] == [row.key for row in dev]


def test_goemotions_maps_ekman_names():
    dev = corpora.load("en", "dev")
    assert len(dev) == 5426
    assert {row.primary for row in dev} == set(EMOTIONS)
    assert all(set(row.labels) <= set(EMOTIONS) for row in dev)


def test_join_segmented_keeps_english_spacing():
    assert corpora.join_segmented("我 很 happy today ！ 真的") == "我很happy today！真的"


def test_missing_data_folder_is_reported(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        corpora.load("zh", "train", tmp_path)
