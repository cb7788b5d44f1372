"""Bag-of-words features whose state is plain JSON + arrays (no pickle).

A fitted vectorizer is rebuilt from its vocabulary (JSON) and, for TF-IDF,
its idf weights (safetensors), and gives the same matrix as the original.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from fewtag.io import read_json, write_json

__all__ = ["BagOfWords"]

VOCAB_FILE = "vocabulary.json"


class BagOfWords:
    """Counts or TF-IDF over word n-grams, saved without pickle."""

    def __init__(
        self,
        *,
        tfidf: bool,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int = 1,
        max_features: int | None = None,
        sublinear_tf: bool = False,
    ):
        self.tfidf = tfidf
        self.options: dict[str, Any] = {
            "ngram_range": list(ngram_range),
            "min_df": min_df,
            "max_features": max_features,
            "lowercase": True,
            "strip_accents": "unicode",
        }
        self.sublinear_tf = sublinear_tf
        self.vocabulary: dict[str, int] = {}
        self.idf: np.ndarray | None = None

    def _counter(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        opts = dict(self.options, ngram_range=tuple(self.options["ngram_range"]))
        if vocabulary is not None:
            opts.update(vocabulary=vocabulary, min_df=1, max_features=None)
        return CountVectorizer(**opts)

    def fit_transform(self, texts: list[str]) -> sp.csr_matrix:
        if self.tfidf:
            opts = dict(self.options, ngram_range=tuple(self.options["ngram_range"]))
            vec = TfidfVectorizer(sublinear_tf=self.sublinear_tf, **opts)
            x = vec.fit_transform(texts)
            self.idf = vec.idf_.astype(np.float64)
        else:
            vec = self._counter()
            x = vec.fit_transform(texts)
        self.vocabulary = {term: int(i) for term, i in vec.vocabulary_.items()}
        return x.tocsr()

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        counts = self._counter(self.vocabulary).transform(texts).astype(np.float64)
        if not self.tfidf:
            return counts.tocsr()
        if self.sublinear_tf:
            counts.data = np.log(counts.data) + 1.0
        return normalize(counts @ sp.diags(self.idf), norm="l2").tocsr()

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """JSON-able settings and arrays to save."""
        arrays = {"idf": self.idf} if self.idf is not None else {}
        return {"tfidf": self.tfidf, "sublinear_tf": self.sublinear_tf, **self.options}, arrays

    def save(self, folder: Path) -> None:
        settings, _ = self.state()
        write_json(folder / VOCAB_FILE, {"settings": settings, "vocabulary": self.vocabulary})

    @classmethod
    def load(cls, folder: Path, idf: np.ndarray | None) -> BagOfWords:
        data = read_json(folder / VOCAB_FILE)
        s = data["settings"]
        bow = cls(
            tfidf=s["tfidf"],
            ngram_range=tuple(s["ngram_range"]),
            min_df=s["min_df"],
            max_features=s["max_features"],
            sublinear_tf=s["sublinear_tf"],
        )
        bow.vocabulary = {k: int(v) for k, v in data["vocabulary"].items()}
        bow.idf = idf
        return bow
