"""Diversity over vectors: k-means representatives and the greedy core-set (k-center)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fewtag.active.base import Pick, QueryStrategy

__all__ = ["KMeansDiversity", "CoreSet", "kmeans_representatives", "greedy_k_center"]


def kmeans_representatives(
    x: NDArray, n: int, *, seed: int = 0, weights: NDArray | None = None, order_by: NDArray | None = None
) -> list[int]:
    """One row per k-means cluster of ``x``: the one nearest its centre, or the largest ``order_by``.

    Parameters
    ----------
    x : ndarray of shape (m, d)
    n : int
        Clusters (at most ``m``).
    order_by : ndarray of shape (m,), optional
        Pick the row of each cluster with the largest value (uncertainty) instead of the most central.

    Returns
    -------
    list of int, up to ``n`` distinct rows, clusters from largest to smallest.

    >>> x = np.array([[0, 0], [0, 0.1], [5, 5], [5, 5.1]], dtype=float)
    >>> sorted(kmeans_representatives(x, 2))
    [0, 2]
    """
    from sklearn.cluster import KMeans

    m = len(x)
    if m == 0:
        return []
    if n >= m:
        return list(range(m))
    km = KMeans(n_clusters=n, n_init=1, random_state=seed, max_iter=100).fit(x, sample_weight=weights)
    assign = km.labels_
    dist = np.linalg.norm(x - km.cluster_centers_[assign], axis=1)
    sizes = np.bincount(assign, minlength=n)
    out = []
    for c in np.argsort(-sizes, kind="stable"):
        members = np.flatnonzero(assign == c)
        if not len(members):
            continue
        if order_by is not None:
            best = members[np.lexsort((members, -np.asarray(order_by)[members]))[0]]
        else:
            best = members[np.lexsort((members, dist[members]))[0]]
        out.append(int(best))
    return out


def greedy_k_center(pool: NDArray, labelled: NDArray | None, n: int, *, seed: int = 0) -> list[int]:
    """Sener & Savarese's greedy core-set: repeatedly the pool row farthest from all chosen rows.

    Chosen rows start as ``labelled`` (or one random pool row when nothing is labelled).

    >>> p = np.array([[0.0], [1.0], [10.0]])
    >>> greedy_k_center(p, np.array([[0.0]]), 2)
    [2, 1]
    """
    m = len(pool)
    if m == 0 or n < 1:
        return []
    chosen: list[int] = []
    if labelled is not None and len(labelled):
        d = np.full(m, np.inf)
        for start in range(0, len(labelled), 512):
            block = labelled[start : start + 512]
            d = np.minimum(d, ((pool[:, None, :] - block[None, :, :]) ** 2).sum(-1).min(axis=1))
    else:
        first = int(np.random.default_rng(seed).integers(m))
        chosen.append(first)
        d = ((pool - pool[first]) ** 2).sum(-1)
    while len(chosen) < min(n, m):
        i = int(np.argmax(d))
        chosen.append(i)
        d = np.minimum(d, ((pool - pool[i]) ** 2).sum(-1))
        d[i] = -1.0
    return chosen


class KMeansDiversity(QueryStrategy):
    """The most central issue of each of ``n`` k-means clusters of the pool (no model needed)."""

    name = "diversity"
    needs_scores = False

    def __init__(self, *, random_state: int = 0):
        self.random_state = random_state

    def _query(self, tagger, pool, labelled, n) -> list[Pick]:
        rows = kmeans_representatives(pool.vectors(), n, seed=self.random_state + len(labelled))
        return [Pick(i, "diverse") for i in rows]


class CoreSet(QueryStrategy):
    """Greedy k-center over the vectors: each pick is the issue farthest from everything labelled or picked."""

    name = "coreset"
    needs_scores = False

    def __init__(self, *, random_state: int = 0):
        self.random_state = random_state

    def _query(self, tagger, pool, labelled, n) -> list[Pick]:
        rows = greedy_k_center(pool.vectors(), labelled.vectors(), n, seed=self.random_state)
        return [Pick(i, "diverse") for i in rows]
