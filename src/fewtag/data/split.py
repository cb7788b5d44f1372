"""Seeded splits of labelled data and the nested training slices of the book's protocol.

``fewtag prepare`` splits with :func:`split_indices` (iterative stratification for
multi-label data, stratified for single-label) and draws :func:`make_slices`; the
benchmark draws extra slice seeds with the same :func:`make_slices`, so a slice of
size 32 means the same thing everywhere.
"""

from __future__ import annotations

import numpy as np

__all__ = ["iterative_split", "stratified_split", "split_indices", "make_slices", "proportional_draw"]


def iterative_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(rest, test)`` by iterative stratification (Sechidis et al.), seeded.

    Parameters
    ----------
    y : ndarray of shape (n, n_classes)
        Indicator matrix.
    test_fraction : float
        Share of rows for ``test``, in (0, 1).
    seed : int

    Returns
    -------
    rest, test : sorted int arrays that partition ``range(n)``.
    """
    from skmultilearn.model_selection import IterativeStratification

    order = np.random.RandomState(seed).permutation(len(y))
    strat = IterativeStratification(
        n_splits=2, order=2, sample_distribution_per_fold=[test_fraction, 1.0 - test_fraction]
    )
    saved = np.random.get_state()  # skmultilearn breaks ties with numpy's global generator
    np.random.seed(seed)
    try:
        rest, test = next(strat.split(np.zeros((len(y), 1)), y[order]))
    finally:
        np.random.set_state(saved)
    return np.sort(order[rest]), np.sort(order[test])


def stratified_split(y: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices ``(rest, test)`` of single-label data (one 1 per row of ``y``), stratified, seeded."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    rest, test = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=y.argmax(axis=1))
    return np.sort(rest), np.sort(test)


def split_indices(
    y: np.ndarray, test_fraction: float, seed: int, *, multi_label: bool
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`iterative_split` for multi-label data, else :func:`stratified_split`.

    >>> y = np.eye(2, dtype=int)[[0, 1] * 10]
    >>> rest, test = split_indices(y, 0.25, 0, multi_label=False)
    >>> len(rest), len(test), y[test].sum(axis=0).tolist()
    (15, 5, [3, 2])
    """
    split = iterative_split if multi_label else stratified_split
    return split(y, test_fraction, seed)


def make_slices(y: np.ndarray, sizes: list[int], seed: int = 0) -> dict[str, list[int]]:
    """Nested training slices, each drawn stratified from what the smaller ones left.

    Parameters
    ----------
    y : ndarray of shape (n_train, n_classes)
        Indicator matrix of the training split.
    sizes : list of int
        Wanted sizes; sizes not smaller than ``n_train`` are left out ("all" is always added).
    seed : int

    Returns
    -------
    dict
        ``{"8": [row indices], ..., "all": [0, ..., n_train - 1]}``; actual sizes may
        differ a little from the wanted ones for multi-label data, as in the book.

    Examples
    --------
    >>> y = np.eye(4, dtype=int)[np.arange(40) % 4]
    >>> s = make_slices(y, [8, 16], seed=0)
    >>> [len(s[k]) for k in ("8", "16", "all")], set(s["8"]) <= set(s["16"])
    ([8, 16, 40], True)
    """
    n = len(y)
    multi = bool((y.sum(axis=1) != 1).any())
    out: dict[str, list[int]] = {}
    chosen: list[int] = []
    pool = np.arange(n)
    rng = np.random.RandomState(seed)
    for size in sorted(set(sizes)):
        if size >= n:
            break
        need = size - len(chosen)
        if need > 0 and len(pool) > need:
            if multi:
                rest, new = iterative_split(y[pool], need / len(pool), int(rng.randint(2**31 - 1)))
            else:
                new, rest = proportional_draw(y[pool], need, rng)
            chosen.extend(pool[new].tolist())
            pool = pool[rest]
        out[str(size)] = sorted(chosen)
    out["all"] = list(range(n))
    return out


def proportional_draw(y: np.ndarray, k: int, rng: np.random.RandomState) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``k`` rows of single-label data, classes in proportion, each present class at least once.

    Returns
    -------
    picked, rest : sorted int arrays that partition ``range(len(y))``.
    """
    target = y.argmax(axis=1)
    classes, counts = np.unique(target, return_counts=True)
    quota = np.maximum(1, np.floor(k * counts / counts.sum())).astype(int)
    while quota.sum() > k:
        quota[np.argmax(quota)] -= 1
    for c in np.argsort(-counts):
        if quota.sum() >= k:
            break
        quota[c] += 1
    picked = []
    for c, q in zip(classes, quota):
        members = np.flatnonzero(target == c)
        picked.extend(rng.permutation(members)[: min(q, len(members))].tolist())
    picked_arr = np.sort(np.asarray(picked, dtype=int))
    rest = np.setdiff1d(np.arange(len(y)), picked_arr)
    return picked_arr, rest
