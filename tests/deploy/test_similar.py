"""The neighbour search's TF-IDF matches scikit-learn's weighting (and needs no scikit-learn)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from fewtag.deploy.similar import tfidf_similarities

DOCS = [
    "crash crash segfault start",
    "docs typo readme",
    "crash saving model file",
    "feature request dark mode",
    "segfault loading large file",
]


def test_scores_equal_scikit_learn_on_texts_without_stop_words():
    query = "segfault crash file"
    vec = TfidfVectorizer(sublinear_tf=True, stop_words="english")
    ref = (vec.fit_transform(DOCS) @ vec.transform([query]).T).toarray().ravel()
    np.testing.assert_allclose(tfidf_similarities(DOCS, query), ref, atol=1e-12)


def test_stop_words_and_empty_queries_match_nothing():
    assert not tfidf_similarities(DOCS, "the and of it").any()
    assert not tfidf_similarities(DOCS, "").any()
    assert tfidf_similarities([], "crash").shape == (0,)


def test_importing_it_does_not_import_scikit_learn():
    code = "import sys, fewtag.deploy.explain; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
