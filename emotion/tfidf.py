"""TF-IDF + logistic regression: the classical reference classifier, and a part of the ensembles.

Character 1-3-grams for Chinese (no segmenter needed, and robust to Weibo slang), word 1-2-grams
for English. Balanced class weights, because macro-F1 weighs the rare classes equally.

`TfidfModel` keeps only arrays and a vocabulary, so it saves into a torch checkpoint that loads
with `weights_only=True` (no pickled objects). scikit-learn fits it and transforms text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from emotion.types import EMOTIONS, Language

# Regularisation strengths tried on the dev split; the best one is kept.
C_GRID = (1.0, 4.0, 16.0)


def analyzer_settings(language: Language) -> dict:
    if language == "zh":
        return {"analyzer": "char", "ngram_range": (1, 3)}
    return {"analyzer": "word", "ngram_range": (1, 2)}


@dataclass
class TfidfModel:
    language: Language
    vocabulary: dict[str, int]
    idf: np.ndarray  # [features]
    coef: np.ndarray  # [labels, features]
    intercept: np.ndarray  # [labels]
    labels: list[str]  # the rows of coef, a subset of EMOTIONS
    c: float
    _fitted_vectorizer: object = field(default=None, init=False, repr=False, compare=False)

    def _vectorizer(self):
        # Built once per model: scikit-learn checks the whole vocabulary when it is built.
        if self._fitted_vectorizer is None:
            from sklearn.feature_extraction.text import TfidfVectorizer

            vectorizer = TfidfVectorizer(sublinear_tf=True, vocabulary=self.vocabulary,
                                         **analyzer_settings(self.language))
            vectorizer.idf_ = self.idf
            self._fitted_vectorizer = vectorizer
        return self._fitted_vectorizer

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities over all of `EMOTIONS` (0 for labels the training data lacked)."""
        features = self._vectorizer().transform(list(texts))
        scores = features @ self.coef.T + self.intercept
        scores = np.exp(scores - scores.max(1, keepdims=True))
        scores /= scores.sum(1, keepdims=True)
        probabilities = np.zeros((len(texts), len(EMOTIONS)), dtype=np.float32)
        for column, label in enumerate(self.labels):
            probabilities[:, EMOTIONS.index(label)] = scores[:, column]
        return probabilities

    def to_state(self) -> dict:
        return {
            "kind": "tfidf",
            "language": self.language,
            "vocabulary": self.vocabulary,
            "idf": torch.from_numpy(self.idf.astype(np.float32)),
            "coef": torch.from_numpy(self.coef.astype(np.float32)),
            "intercept": torch.from_numpy(self.intercept.astype(np.float32)),
            "labels": self.labels,
            "c": self.c,
        }

    @classmethod
    def from_state(cls, state: dict) -> TfidfModel:
        return cls(
            language=state["language"],
            vocabulary=dict(state["vocabulary"]),
            idf=state["idf"].numpy().astype(np.float64),
            coef=state["coef"].numpy().astype(np.float64),
            intercept=state["intercept"].numpy().astype(np.float64),
            labels=list(state["labels"]),
            c=float(state["c"]),
        )


def fit_tfidf(
    language: Language, texts: Sequence[str], labels: Sequence[str], c: float, min_df: int = 2
) -> TfidfModel:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(sublinear_tf=True, min_df=min_df, **analyzer_settings(language))
    features = vectorizer.fit_transform(list(texts))
    regression = LogisticRegression(C=c, max_iter=3000, class_weight="balanced").fit(features, list(labels))
    vocabulary = {str(term): int(index) for term, index in vectorizer.vocabulary_.items()}
    return TfidfModel(language, vocabulary, vectorizer.idf_, regression.coef_, regression.intercept_,
                      [str(label) for label in regression.classes_], c)
