"""The shipped emotion classifiers: they load, match their manifests and read clear cases right."""

import hashlib
import json

import pytest

from avatar.errors import AvatarError
from emotion import corpora
from emotion.classifier import EmotionClassifier, checkpoint_dir, default_classifier, intensity_from
from emotion.metrics import evaluate

CHECKPOINTS = checkpoint_dir()


@pytest.mark.parametrize("language", ["zh", "en"])
def test_checkpoint_matches_its_manifest(language):
    path = CHECKPOINTS / f"emotion_{language}.pt"
    manifest = json.loads((CHECKPOINTS / f"emotion_{language}.json").read_text(encoding="utf-8"))
    assert hashlib.sha256(path.read_bytes()).hexdigest() == manifest["sha256"]
    for key in ("data", "command", "epochs", "dev_scores", "dev_report", "speed_ms_per_sentence"):
        assert key in manifest
    # The reference points are reported beside the models.
    assert {"majority", "lexicon", "tfidf", "bilstm"} <= set(manifest["dev_scores"])


@pytest.mark.skipif(not corpora.data_root().is_dir(), reason="../shared/data is not checked out")
@pytest.mark.parametrize("language", ["zh", "en"])
def test_dev_score_is_reproduced_from_the_shipped_checkpoint(language):
    manifest = json.loads((CHECKPOINTS / f"emotion_{language}.json").read_text(encoding="utf-8"))
    rows = corpora.load(language, "dev")
    predictions = default_classifier(language).predict([row.text for row in rows])
    report = evaluate([row.primary for row in rows], [p.label for p in predictions])
    assert report.macro_f1 == pytest.approx(manifest["dev_macro_f1"], abs=0.002)
    assert report.macro_f1 > manifest["dev_scores"]["tfidf"]


def test_english_model_beats_tfidf_by_five_points():
    # NOTE: the Chinese model beats TF-IDF by 3.0 points only (docs/emotion.md lists what was tried).
    manifest = json.loads((CHECKPOINTS / "emotion_en.json").read_text(encoding="utf-8"))
    assert manifest["dev_macro_f1"] - manifest["dev_scores"]["tfidf"] >= 0.05


@pytest.mark.parametrize(("language", "text", "label"), [
    ("zh", "终于收到录取通知书了，太开心了！", "happy"),
    ("zh", "这群骗子太可恶了，气死我了！", "angry"),
    ("zh", "今天国务院召开常务会议，部署下一阶段工作。", "neutral"),
    ("en", "I'm so happy for you, congratulations!", "happy"),
    ("en", "This makes me so angry, how dare they lie to us.", "angry"),
    ("en", "I miss my grandmother so much, she passed away last week.", "sad"),
])
def test_clear_sentences(language, text, label):
    prediction = default_classifier(language).predict([text])[0]
    assert prediction.label == label
    assert sum(prediction.probabilities) == pytest.approx(1.0, abs=1e-3)
    assert prediction.confidence == max(prediction.probabilities)


def test_intensity_follows_the_cues():
    plain = intensity_from("我很开心", "zh", "happy", 0.6)
    assert intensity_from("我太开心了！！！", "zh", "happy", 0.6) > plain
    assert intensity_from("我有点开心", "zh", "happy", 0.6) < plain
    assert intensity_from("我不开心", "zh", "happy", 0.6) < plain
    assert intensity_from("I am happy", "en", "happy", 0.9) > intensity_from("I am happy", "en", "happy", 0.4)
    assert intensity_from("I am not happy", "en", "happy", 0.6) < intensity_from("I am happy", "en", "happy", 0.6)
    assert intensity_from("anything", "en", "neutral", 0.99) == 0.0


def test_missing_and_broken_checkpoints_are_explained(tmp_path):
    with pytest.raises(AvatarError) as caught:
        EmotionClassifier.load(tmp_path / "emotion_zh.pt")
    assert caught.value.key == "emotion_checkpoint_missing"
    broken = tmp_path / "emotion_zh.pt"
    broken.write_bytes(b"not a checkpoint")
    with pytest.raises(AvatarError) as caught:
        EmotionClassifier.load(broken)
    assert caught.value.key == "emotion_checkpoint_invalid"
    assert "train-emotion" in caught.value.message("en")
    with pytest.raises(AvatarError) as caught:
        EmotionClassifier.load(CHECKPOINTS / "emotion_en.pt", "zh")
    assert "language en" in caught.value.message("en")
