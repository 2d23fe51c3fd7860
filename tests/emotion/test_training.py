"""`avatar train-emotion` end to end on a small slice of the real corpora."""

import hashlib
import json

import pytest

from avatar import i18n
from avatar.cli import main
from emotion import corpora
from emotion.classifier import EmotionClassifier

pytestmark = pytest.mark.skipif(not corpora.data_root().is_dir(), reason="../shared/data is not checked out")


def test_train_writes_a_loadable_checkpoint_and_manifest(tmp_path, capsys):
    i18n.set_language("en")
    try:
        status = main(["train-emotion", "--lang", "zh", "--limit", "300", "--epochs", "1", "--output", str(tmp_path)])
    finally:
        i18n.set_language(None)
    out = capsys.readouterr().out
    assert status == 0, out
    assert "tfidf: dev macro-F1" in out
    assert "chose" in out
    manifest = json.loads((tmp_path / "emotion_zh.json").read_text(encoding="utf-8"))
    checkpoint = tmp_path / "emotion_zh.pt"
    assert hashlib.sha256(checkpoint.read_bytes()).hexdigest() == manifest["sha256"]
    assert manifest["split"]["train_rows"] == 300
    assert set(manifest["dev_scores"]) >= {"majority", "lexicon", "tfidf", "bilstm", "cnn", "cnn+tfidf"}
    assert manifest["chosen"] not in ("majority", "lexicon", "tfidf")
    assert [entry["file"] for entry in manifest["data"]] == [corpora.SMP2020_FILE, corpora.NLPCC_FILE]
    predictions = EmotionClassifier.load(checkpoint, "zh").predict(["太开心了！", "气死我了"])
    assert len(predictions) == 2

    # --rescore scores the same weights again and keeps everything else of the manifest.
    status = main(["train-emotion", "--lang", "zh", "--rescore", "--output", str(tmp_path)])
    assert status == 0
    rescored = json.loads((tmp_path / "emotion_zh.json").read_text(encoding="utf-8"))
    assert rescored["sha256"] == manifest["sha256"]
    assert rescored["dev_scores"] == manifest["dev_scores"]
    assert rescored["dev_macro_f1"] == pytest.approx(manifest["dev_macro_f1"], abs=0.02)
    assert rescored["rescored"]["command"] == "avatar train-emotion --lang zh --rescore"


def test_missing_corpus_is_a_clear_error(tmp_path, capsys):
    i18n.set_language("en")
    try:
        status = main(["train-emotion", "--lang", "en", "--data", str(tmp_path), "--output", str(tmp_path)])
    finally:
        i18n.set_language(None)
    err = capsys.readouterr().err
    assert status == 2
    assert "AVATAR_EMOTION_DATA" in err
    assert not list(tmp_path.iterdir())
