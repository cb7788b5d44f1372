"""Label sets <-> indicator matrices, with validation on entry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import InputError

__all__ = ["LabelInput", "is_multi_label", "to_label_sets", "binarize", "check_texts", "indicator_to_labels"]

#: One label per text (``["bug", "joy", ...]``) or a label list per text.
LabelInput = Sequence[str] | Sequence[Sequence[str]]


def is_multi_label(labels: LabelInput) -> bool:
    """True when each element is a list of labels rather than one label string."""
    return any(not isinstance(item, str) for item in labels)


def to_label_sets(labels: LabelInput) -> list[list[str]]:
    return [[item] if isinstance(item, str) else [str(x) for x in item] for item in labels]


def binarize(label_sets: Sequence[Sequence[str]], classes: Sequence[str]) -> NDArray[np.int8]:
    """Indicator matrix of shape ``(n_texts, n_classes)``; unknown labels raise.

    >>> binarize([["a"], ["a", "b"], []], ["a", "b"]).tolist()
    [[1, 0], [1, 1], [0, 0]]
    """
    index = {c: i for i, c in enumerate(classes)}
    y = np.zeros((len(label_sets), len(classes)), dtype=np.int8)
    for row, labels in enumerate(label_sets):
        for label in labels:
            if label not in index:
                raise InputError(f"label {label!r} was not seen in training. Known labels: {', '.join(classes)}")
            y[row, index[label]] = 1
    return y


def check_texts(texts: Any, *, what: str = "texts") -> list[str]:
    """Return ``texts`` as a list of str, or raise a clear error."""
    if isinstance(texts, str):
        raise InputError(f"expected a sequence of {what}, got one string; wrap it in a list")
    texts = list(texts)
    if not texts:
        raise InputError(f"no {what} given")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"{what}[{i}] is {type(t).__name__}, expected str")
    return texts


def indicator_to_labels(y: NDArray, classes: Sequence[str], multi_label: bool) -> list:
    """Indicator matrix -> the label form ``fit`` takes (a str per row, or a list per row).

    >>> indicator_to_labels(np.array([[1, 0], [0, 1]]), ["a", "b"], multi_label=False)
    ['a', 'b']
    """
    sets = [[classes[int(j)] for j in np.flatnonzero(row)] for row in y]
    return sets if multi_label else [s[0] for s in sets]
