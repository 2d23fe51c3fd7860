from emotion.tokens import UNK, Vocabulary, tokenize


def test_characters_words_numbers_and_repeated_marks():
    assert tokenize("我太开心了！！！！ So HAPPY, 2024年") == [
        "我", "太", "开", "心", "了", "！！！", "！", "so", "happy", ",", "<num>", "年"]
    assert tokenize("don't") == ["don't"]


def test_vocabulary_ids_and_hashed_pairs_are_stable():
    vocabulary = Vocabulary.build(["好 好 开心", "好 开心"], min_count=2, bigram_buckets=100)
    ids, pairs = vocabulary.encode("好开心呀", 10)
    assert ids[-1] == UNK
    assert len(pairs) == 3
    again = Vocabulary(vocabulary.tokens, 100).encode("好开心呀", 10)
    assert (ids, pairs) == again
    assert Vocabulary(vocabulary.tokens).encode("", 10) == ([UNK], [])
