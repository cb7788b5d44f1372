"""Vectors for the diversity strategies and word affinities for labels with no examples.

Two sources of vectors, both unit rows:

* ``tfidf-svd`` -- TF-IDF of word unigrams reduced by truncated SVD (LSA); needs no model,
  costs a second or two on 10k issues, and is cached in the store when one is given
  (keyed by a fingerprint of the whole corpus, so a new item recomputes it);
* an encoder's sentence embeddings (:func:`fewtag.embed.get_encoder`), read from and written
  to the embedding cache.

:func:`label_affinity` scores texts against label names (and descriptions) with a
truncating stemmer (``streaming`` and ``stream`` share ``stream``), the cheap zero-shot
signal used to find examples of a label nobody has labelled yet.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from fewtag.data.store import Store

__all__ = [
    "one_blas_thread",
    "tfidf_svd_vectors",
    "encoder_vectors",
    "label_affinity",
    "corpus_fingerprint",
    "TFIDF_SVD",
]

TFIDF_SVD = "fewtag.active:tfidf-svd"
_WORD = re.compile(r"[a-z][a-z0-9]+")
_STEM = 6


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """A context (or, as ``@one_blas_thread()``, a decorator) in which BLAS runs on one thread.

    The matrices of a labelling round are small (a few hundred rows): with two BLAS threads
    on two busy cores, a tfidf-logreg fit on 230 issues measured 2.8 s of CPU against 0.22 s
    on one thread (the threads spin while they wait for each other).
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _stems(text: str) -> list[str]:
    return [w[:_STEM] for w in _WORD.findall(text.lower())]


def corpus_fingerprint(texts: Sequence[str]) -> str:
    """A short hash of the texts in order."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8", errors="surrogatepass") + b"\x00")
    return h.hexdigest()[:16]


def _normalise(x: NDArray) -> NDArray[np.float32]:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def tfidf_svd_vectors(
    texts: Sequence[str], *, dims: int = 64, seed: int = 0, store: Store | None = None
) -> NDArray[np.float32]:
    """LSA vectors of ``texts``, shape ``(n, d)`` with ``d <= dims``, unit rows.

    With ``store`` the vectors of this exact corpus are read back from its embedding
    table when present and written there otherwise.

    >>> tfidf_svd_vectors(["crash on load", "crash at start", "docs typo", "typo in docs"], dims=2).shape
    (4, 2)
    """
    from fewtag.embed.cache import text_hash

    texts = list(texts)
    if not texts:
        return np.zeros((0, dims), dtype=np.float32)
    key = corpus_fingerprint(texts) + f"-{seed}"
    hashes = [text_hash(t) for t in texts]
    if store is not None:
        found = store.get_embeddings(TFIDF_SVD, key, dims, sorted(set(hashes)))
        if len(found) == len(set(hashes)):
            return np.stack([found[h] for h in hashes])
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(
        analyzer=_stems,
        min_df=2 if len(texts) > 50 else 1,
        max_df=0.5 if len(texts) > 50 else 1.0,
        sublinear_tf=True,
        max_features=30_000,
    )
    try:
        x = vec.fit_transform(texts)
    except ValueError:  # no words at all
        return np.zeros((len(texts), 1), dtype=np.float32)
    k = max(1, min(dims, x.shape[1] - 1, len(texts) - 1))
    if k >= 1 and x.shape[1] > 1 and len(texts) > 2:
        z = TruncatedSVD(n_components=k, n_iter=4, random_state=seed).fit_transform(x)
    else:
        z = x.toarray()
    out = _normalise(z)
    if store is not None:
        store.put_embeddings(TFIDF_SVD, key, dims, dict(zip(hashes, out)))
    return out


def encoder_vectors(texts: Sequence[str], *, model: str, max_length: int = 256, backend: str = "auto") -> NDArray:
    """Sentence embeddings of ``texts`` from the (memoised, cached) encoder ``model``."""
    from fewtag.embed import get_encoder

    return get_encoder(model, max_length, backend=backend).encode(list(texts))


def label_affinity(
    texts: Sequence[str], labels: Sequence[str], descriptions: Mapping[str, str] | None = None
) -> NDArray[np.float64]:
    """BM25 score of each text for each label's words (name + description), shape ``(n, n_labels)``.

    Words are cut to their first six letters (``streaming`` and ``stream`` match); only the
    labels' own words are counted, so this costs one tokenising pass over the texts.

    >>> label_affinity(["streaming a dataset fails", "typo in docs"], ["streaming", "docs"]).argmax(axis=1).tolist()
    [0, 1]
    """
    queries = [
        set(_stems(f"{lab.replace('_', ' ').replace('-', ' ')} {(descriptions or {}).get(lab, '')}")) for lab in labels
    ]
    vocab = sorted(set().union(*queries)) if queries else []
    out = np.zeros((len(texts), len(labels)))
    if not vocab or not len(texts):
        return out
    col = {w: j for j, w in enumerate(vocab)}
    tf = np.zeros((len(texts), len(vocab)))
    lengths = np.zeros(len(texts))
    for i, text in enumerate(texts):
        stems = _stems(text)
        lengths[i] = len(stems)
        for w in stems:
            j = col.get(w)
            if j is not None:
                tf[i, j] += 1
    k1, b = 1.2, 0.75
    df = (tf > 0).sum(axis=0)
    idf = np.log(1 + (len(texts) - df + 0.5) / (df + 0.5))
    norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()), 1e-9))
    weight = tf * (k1 + 1) / (tf + norm[:, None]) * idf
    for j, q in enumerate(queries):
        cols = [col[w] for w in q]
        if cols:
            out[:, j] = weight[:, cols].sum(axis=1)
    return out
