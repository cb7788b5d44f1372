"""Linear heads stored as plain arrays: fitting (logistic regression) and scoring.

Shared by ``tfidf-logreg``, ``embed-logreg`` and ``setfit``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["sigmoid", "softmax", "constant_columns", "fit_linear_head", "linear_scores"]


def sigmoid(z: NDArray) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def softmax(z: NDArray) -> NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def constant_columns(y: NDArray) -> NDArray[np.bool_]:
    """Columns of an indicator matrix with a single value (nothing to learn)."""
    return y.min(axis=0) == y.max(axis=0)


def fit_linear_head(
    x, y: NDArray, *, multi_label: bool, C: float, class_weight: str | None, random_state: int, max_iter: int = 2000
) -> tuple[NDArray, NDArray]:
    """Fit logistic regression on features ``x``; return ``(coef (C, d), intercept (C,))``.

    Multi-label: one binary model per label; a label with one value in ``y``
    gets a constant score. Single-label: one multinomial model; classes absent
    from ``y`` get a very low intercept.
    """
    from sklearn.linear_model import LogisticRegression  # late: scoring a saved head needs numpy only

    c, d = y.shape[1], x.shape[1]
    coef, intercept = np.zeros((c, d)), np.zeros(c)
    if multi_label:
        for j in range(c):
            col = y[:, j]
            if col.min() == col.max():
                intercept[j] = 30.0 if col.max() else -30.0
                continue
            # liblinear: fast and exact for one binary problem on sparse features
            lr = LogisticRegression(
                C=C, class_weight=class_weight, max_iter=max_iter, solver="liblinear", random_state=random_state
            ).fit(x, col)
            coef[j], intercept[j] = lr.coef_[0], lr.intercept_[0]
        return coef, intercept
    target = y.argmax(axis=1)
    present = np.unique(target)
    intercept[:] = -30.0
    if len(present) == 1:
        intercept[present[0]] = 30.0
        return coef, intercept
    lr = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=random_state).fit(x, target)
    if len(present) == 2:  # sklearn keeps one row for two classes
        coef[present[1]], intercept[present[1]] = lr.coef_[0], lr.intercept_[0]
        intercept[present[0]] = 0.0
    else:
        coef[present], intercept[present] = lr.coef_, lr.intercept_
    return coef, intercept


def linear_scores(x, coef: NDArray, intercept: NDArray, *, multi_label: bool) -> NDArray[np.float64]:
    """Sigmoid (multi-label) or softmax scores of ``x @ coef.T + intercept``, shape ``(n, C)``."""
    z = np.asarray(x @ coef.T) + intercept
    return sigmoid(z) if multi_label else softmax(z)
