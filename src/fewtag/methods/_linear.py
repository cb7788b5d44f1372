"""Shared maths for linear heads stored as plain arrays."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["sigmoid", "softmax", "constant_columns"]


def sigmoid(z: NDArray) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


def softmax(z: NDArray) -> NDArray[np.float64]:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def constant_columns(y: NDArray) -> NDArray[np.bool_]:
    """Columns of an indicator matrix with a single value (nothing to learn)."""
    return (y.min(axis=0) == y.max(axis=0))
