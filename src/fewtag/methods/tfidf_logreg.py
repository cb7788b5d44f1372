"""TF-IDF word 1-2-grams + logistic regression: the stronger classical baseline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file, save_file

from fewtag.methods._linear import fit_linear_head, linear_scores
from fewtag.methods._text_features import BagOfWords
from fewtag.methods.base import BaseTagger
from fewtag.registry import register

__all__ = ["TfidfLogRegTagger"]


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

    def __init__(
        self, *, C: float = 10.0, class_weight: str | None = "balanced", ngram_max: int = 2, random_state: int = 0
    ):
        self.C = C
        self.class_weight = class_weight
        self.ngram_max = ngram_max
        self.random_state = random_state

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        self.bow_ = BagOfWords(tfidf=True, ngram_range=(1, self.ngram_max), sublinear_tf=True, max_features=100_000)
        x = self.bow_.fit_transform(texts)
        self.coef_, self.intercept_ = fit_linear_head(
            x,
            y,
            multi_label=self.multi_label_,
            C=self.C,
            class_weight=self.class_weight,
            random_state=self.random_state,
        )

    def _scores(self, texts) -> NDArray[np.float64]:
        return linear_scores(self.bow_.transform(texts), self.coef_, self.intercept_, multi_label=self.multi_label_)

    def _save_weights(self, folder: Path) -> None:
        self.bow_.save(folder)
        _, arrays = self.bow_.state()  # {"idf": ...}: the bag is always TF-IDF here
        save_file(
            {"coef": self.coef_, "intercept": self.intercept_, **arrays},
            str(folder / "weights.safetensors"),
        )

    def _load_weights(self, folder: Path) -> None:
        w = load_file(str(folder / "weights.safetensors"))
        self.bow_ = BagOfWords.load(folder, idf=w["idf"])
        self.coef_, self.intercept_ = w["coef"], w["intercept"]
