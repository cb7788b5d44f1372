"""TF-IDF word 1-2-grams + logistic regression: the stronger classical baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file
from sklearn.linear_model import LogisticRegression

from fewtag.methods._linear import sigmoid, softmax
from fewtag.methods._text_features import BagOfWords
from fewtag.methods.base import BaseTagger
from fewtag.registry import register

__all__ = ["TfidfLogRegTagger", "fit_linear_head"]


def fit_linear_head(x, y: NDArray, *, multi_label: bool, C: float, class_weight: str | None,
                    random_state: int, max_iter: int = 2000) -> tuple[NDArray, NDArray]:
    """Fit logistic regression on features ``x``; return ``(coef (C, d), intercept (C,))``.

    Multi-label: one binary model per label; a label with one value in ``y``
    gets a constant score. Single-label: one multinomial model; classes absent
    from ``y`` get a very low intercept.
    """
    c, d = y.shape[1], x.shape[1]
    coef, intercept = np.zeros((c, d)), np.zeros(c)
    if multi_label:
        for j in range(c):
            col = y[:, j]
            if col.min() == col.max():
                intercept[j] = 30.0 if col.max() else -30.0
                continue
            # liblinear: fast and exact for one binary problem on sparse features
            lr = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter,
                                    solver="liblinear", random_state=random_state).fit(x, col)
            coef[j], intercept[j] = lr.coef_[0], lr.intercept_[0]
        return coef, intercept
    target = y.argmax(axis=1)
    present = np.unique(target)
    intercept[:] = -30.0
    if len(present) == 1:
        intercept[present[0]] = 30.0
        return coef, intercept
    lr = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter,
                            random_state=random_state).fit(x, target)
    if len(present) == 2:  # sklearn keeps one row for two classes
        coef[present[1]], intercept[present[1]] = lr.coef_[0], lr.intercept_[0]
        intercept[present[0]] = 0.0
    else:
        coef[present], intercept[present] = lr.coef_, lr.intercept_
    return coef, intercept


def linear_scores(x, coef: NDArray, intercept: NDArray, *, multi_label: bool) -> NDArray[np.float64]:
    z = np.asarray(x @ coef.T) + intercept
    return sigmoid(z) if multi_label else softmax(z)


@register("tfidf-logreg")
class TfidfLogRegTagger(BaseTagger):
    """TF-IDF (1-2-grams, sublinear tf) + one-vs-rest logistic regression.

    Parameters
    ----------
    C : float
        Inverse regularisation strength.
    class_weight : {"balanced", None}
        "balanced" lifts rare labels (macro F1).
    ngram_max : int
    random_state : int

    Examples
    --------
    >>> t = TfidfLogRegTagger().fit(["crash on load", "add a flag", "segfault crash"],
    ...                             ["bug", "feature", "bug"])
    >>> t.predict(["new flag please"])
    [['feature']]
    """

    def __init__(self, *, C: float = 10.0, class_weight: str | None = "balanced",
                 ngram_max: int = 2, random_state: int = 0):
        self.C = C
        self.class_weight = class_weight
        self.ngram_max = ngram_max
        self.random_state = random_state

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        self.bow_ = BagOfWords(tfidf=True, ngram_range=(1, self.ngram_max), sublinear_tf=True,
                               max_features=100_000)
        x = self.bow_.fit_transform(texts)
        self.coef_, self.intercept_ = fit_linear_head(
            x, y, multi_label=self.multi_label_, C=self.C, class_weight=self.class_weight,
            random_state=self.random_state)

    def _scores(self, texts) -> NDArray[np.float64]:
        return linear_scores(self.bow_.transform(texts), self.coef_, self.intercept_,
                             multi_label=self.multi_label_)

    def _save_weights(self, folder: Path) -> None:
        self.bow_.save(folder)
        save_file({"coef": self.coef_, "intercept": self.intercept_, "idf": self.bow_.idf},
                  str(folder / "weights.safetensors"))

    def _load_weights(self, folder: Path) -> None:
        w = load_file(str(folder / "weights.safetensors"))
        self.bow_ = BagOfWords.load(folder, idf=w["idf"])
        self.coef_, self.intercept_ = w["coef"], w["intercept"]
