"""Why a label: the words that weighed most (linear models) and the nearest labelled issues.

* :func:`top_words`: for a model over a bag of words with one weight per term and label
  (``tfidf-logreg``: ``coef_``; ``naive-bayes``: the log-probability ratio), each term's
  contribution to the label's score for this text is its feature value times its weight; the
  largest positive ones are shown. Other models have no per-word weights: nothing is shown.
* :func:`similar_labelled`: the issues of the store that carry a managed label, ranked by
  TF-IDF cosine similarity to this one (words, English stop words left out, built on the fly over
  the title and the first 1,000 characters of the body of each labelled issue, by
  :mod:`fewtag.deploy.similar`; no encoder and no scikit-learn to load, so a cold ``fewtag triage``
  stays fast).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fewtag.data.store import Item
from fewtag.deploy.comment import Neighbour

__all__ = ["top_words", "similar_labelled"]


def _term_weights(tagger: Any, j: int) -> np.ndarray | None:
    """Per-term weight for class ``j``, or ``None`` when the model has none."""
    coef = getattr(tagger, "coef_", None)
    if coef is not None:
        return np.asarray(coef)[j]
    log_prob = getattr(tagger, "log_prob_", None)
    if log_prob is not None:
        lp = np.asarray(log_prob)
        if lp.ndim == 3:  # multi-label NB: (classes, 2, terms): present vs absent
            return lp[j, 1] - lp[j, 0]
        return lp[j] - lp.mean(axis=0)  # single-label NB: against the average class
    return None


def top_words(tagger: Any, text: str, label: str, k: int = 5) -> list[tuple[str, float]]:
    """The ``k`` terms of ``text`` that pushed ``label``'s score up most, with their contributions.

    Parameters
    ----------
    tagger : BaseTagger
        A model with a bag of words (``bow_``) and per-term weights; others give ``[]``.
    text : str
        The model's input (``tagger.text_of(record)``).
    label : str
        One of ``tagger.classes_``.

    Returns
    -------
    list of (term, contribution), largest first, contributions > 0
    """
    bow = getattr(tagger, "bow_", None)
    if bow is None or label not in tagger.classes_:
        return []
    weights = _term_weights(tagger, list(tagger.classes_).index(label))
    if weights is None:
        return []
    x = bow.transform([text]).tocsr()
    if not x.nnz:
        return []
    contrib = x.data * weights[x.indices]
    order = np.argsort(-contrib, kind="stable")
    terms = {i: t for t, i in bow.vocabulary.items()} if len(order) else {}
    out = []
    for pos in order[:k]:
        if contrib[pos] <= 0:
            break
        out.append((terms.get(int(x.indices[pos]), "?"), round(float(contrib[pos]), 2)))
    return out


def similar_labelled(
    items: Iterable[Item],
    query: str,
    *,
    text_of: Callable[[Item], str],
    tags_of: Callable[[list[str]], set[str]],
    exclude: tuple[str, int] | None = None,
    k: int = 3,
    max_pool: int = 5000,
) -> list[Neighbour]:
    """The ``k`` issues most like ``query`` among ``items`` that carry a managed tag.

    Parameters
    ----------
    items : iterable of Item
        Candidates (pull requests are skipped).
    query : str
        This issue's model input.
    text_of : callable
        An item's model input (the model's text path).
    tags_of : callable
        The managed tags among raw labels (:meth:`fewtag.deploy.config.RepoConfig.tags_of`).
    exclude : (repo, number), optional
        The issue itself.
    max_pool : int
        Search the newest this many labelled issues at most (a cold start stays short).
    """
    pool: list[tuple[Item, list[str]]] = []
    for it in items:
        if it.is_pr or it.number is None or (exclude is not None and (it.repo, it.number) == exclude):
            continue
        tags = sorted(tags_of(list(it.labels)))
        if tags:
            pool.append((it, tags))
    if not pool or not query.strip():
        return []
    from fewtag.deploy.similar import tfidf_similarities

    pool = pool[-max_pool:]  # the newest labelled issues (the store lists them by number)
    sims = tfidf_similarities([text_of(it) for it, _ in pool], query)
    order = np.argsort(-sims, kind="stable")[:k]
    return [
        Neighbour(
            pool[i][0].repo,
            int(pool[i][0].number or 0),
            pool[i][0].title,
            tuple(pool[i][1]),
            round(float(sims[i]), 3),
            pool[i][0].url,
        )
        for i in order
        if sims[i] > 0
    ]
