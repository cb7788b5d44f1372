"""Naive Bayes on word counts: the book's ch. 9 baseline.

Multi-label data uses binary relevance (one two-class MultinomialNB per label,
as scikit-multilearn's ``BinaryRelevance(MultinomialNB())``); single-label
data one multi-class MultinomialNB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file
from sklearn.naive_bayes import MultinomialNB

from fewtag.methods._linear import softmax
from fewtag.methods._text_features import BagOfWords
from fewtag.methods.base import BaseTagger
from fewtag.registry import register

__all__ = ["NaiveBayesTagger"]


@register("naive-bayes")
class NaiveBayesTagger(BaseTagger):
    """CountVectorizer + MultinomialNB.

    Parameters
    ----------
    alpha : float
        Additive smoothing.
    ngram_max : int
        Largest word n-gram.

    Examples
    --------
    >>> t = NaiveBayesTagger().fit(["crash on load", "add a flag", "segfault crash"],
    ...                            ["bug", "feature", "bug"])
    >>> t.predict(["crash again"])
    [['bug']]
    """

    def __init__(self, *, alpha: float = 1.0, ngram_max: int = 1):
        self.alpha = alpha
        self.ngram_max = ngram_max

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        self.bow_ = BagOfWords(tfidf=False, ngram_range=(1, self.ngram_max))
        x = self.bow_.fit_transform(texts)
        if self.multi_label_:
            c, v = y.shape[1], x.shape[1]
            self.log_prob_ = np.zeros((c, 2, v))
            self.log_prior_ = np.full((c, 2), np.log(0.5))
            for j in range(c):
                col = y[:, j]
                if col.min() == col.max():  # nothing to contrast: fix the prior
                    self.log_prior_[j] = [0.0, -np.inf] if col.max() == 0 else [-np.inf, 0.0]
                    continue
                nb = MultinomialNB(alpha=self.alpha).fit(x, col)
                self.log_prob_[j] = nb.feature_log_prob_
                self.log_prior_[j] = nb.class_log_prior_
        else:
            target = y.argmax(axis=1)
            nb = MultinomialNB(alpha=self.alpha).fit(x, target)
            # classes absent from this slice get a vanishing prior
            self.log_prob_ = np.full((y.shape[1], x.shape[1]), -np.log(x.shape[1]))
            self.log_prior_ = np.full(y.shape[1], -1e9)
            self.log_prob_[nb.classes_] = nb.feature_log_prob_
            self.log_prior_[nb.classes_] = nb.class_log_prior_

    def _scores(self, texts) -> NDArray[np.float64]:
        x = self.bow_.transform(texts)
        if not self.multi_label_:
            return softmax(np.asarray(x @ self.log_prob_.T) + self.log_prior_)
        out = np.empty((x.shape[0], len(self.classes_)))
        for j in range(len(self.classes_)):
            jll = np.asarray(x @ self.log_prob_[j].T) + self.log_prior_[j]
            out[:, j] = softmax(np.nan_to_num(jll, neginf=-1e300))[:, 1]
        return out

    def _save_weights(self, folder: Path) -> None:
        self.bow_.save(folder)
        save_file(
            {"log_prob": self.log_prob_, "log_prior": np.maximum(self.log_prior_, -1e300)},
            str(folder / "weights.safetensors"),
        )

    def _load_weights(self, folder: Path) -> None:
        self.bow_ = BagOfWords.load(folder, idf=None)
        w = load_file(str(folder / "weights.safetensors"))
        self.log_prob_, self.log_prior_ = w["log_prob"], w["log_prior"]
