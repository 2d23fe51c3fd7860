from emotion.gloss import dictionary, gloss


def test_emotion_words_survive_the_gloss():
    assert "happy" in gloss("终于收到录取通知书了，太开心了！")
    assert "afraid" in gloss("我好害怕") or "scared" in gloss("我好害怕")
    assert "angry" in gloss("他很生气")


def test_function_words_and_punctuation():
    text = gloss("我太开心了！")
    assert text.startswith("i too")
    assert "finish" not in text  # 了's dictionary sense would mislead
    assert text.endswith("!")


def test_latin_words_and_unknown_characters_pass_through():
    assert gloss("love life") == "love life"
    assert gloss("😀") == "😀"
    assert len(dictionary()) > 100_000
