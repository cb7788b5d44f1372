"""SetFit's pair sampler, kept apart from the model as SetFit keeps ``sampler.py``.

A pair of labelled texts is positive when the two share a label (multi-label:
at least one), negative when they share none. Pairs are *drawn*, never
enumerated: memory is O(pairs + texts) however many texts there are, and the
draw follows the caller's seeded generator.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["sample_pairs"]


def sample_pairs(
    y: NDArray, n_pairs: int, rng: np.random.Generator, tries: int = 20
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float32]]:
    """Draw up to ``n_pairs`` positive/negative pairs of rows of ``y``.

    Parameters
    ----------
    y : ndarray of shape (n, n_classes), 0/1
    n_pairs : int
        Upper bound on the pairs returned (memory is O(n_pairs + n)).
    rng : numpy Generator
    tries : int
        Rejection-sampling attempts per negative.

    Returns
    -------
    a, b : ndarray of shape (p,), row indices
    target : ndarray of shape (p,), 1.0 for a positive pair, 0.0 for a negative

    Examples
    --------
    >>> a, b, t = sample_pairs(np.array([[1, 0], [1, 0], [0, 1], [0, 1]]), 8,
    ...                        np.random.default_rng(0))
    >>> len(a) == 8 and set(t.tolist()) == {0.0, 1.0}
    True
    """
    y = np.asarray(y, dtype=bool)
    n = len(y)
    members = [np.flatnonzero(y[:, j]) for j in range(y.shape[1])]
    a: list[int] = []
    b: list[int] = []
    t: list[float] = []
    anchors = np.flatnonzero(y.any(axis=1))
    if len(anchors) == 0 or n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    stalled = 0
    while len(a) < n_pairs and stalled < 2:
        added = len(a)
        for i in rng.permutation(anchors):
            if len(a) >= n_pairs:
                break
            # positive: a random label of i, then another text carrying it
            lab = rng.choice(np.flatnonzero(y[i]))
            pool = members[lab]
            if len(pool) > 1:
                j = pool[rng.integers(len(pool))]
                while j == i:
                    j = pool[rng.integers(len(pool))]
                a.append(i)
                b.append(j)
                t.append(1.0)
            if len(a) >= n_pairs:
                break
            # negative: any text sharing no label with i
            for _ in range(tries):
                j = int(rng.integers(n))
                if not (y[i] & y[j]).any():
                    a.append(i)
                    b.append(j)
                    t.append(0.0)
                    break
        stalled = stalled + 1 if len(a) == added else 0
    return (np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64), np.asarray(t, dtype=np.float32))
