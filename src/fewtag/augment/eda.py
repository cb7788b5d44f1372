"""EDA (Wei & Zou, 2019): random swap, insertion and deletion of words.

Synonym replacement, EDA's fourth operation, is available with
``synonyms=True`` (WordNet, see :mod:`fewtag.augment.synonym`).
"""

from __future__ import annotations

import numpy as np

from fewtag.augment.base import Augmenter
from fewtag.errors import ConfigError

__all__ = ["EDAAugmenter"]

OPERATIONS = ("swap", "insert", "delete", "synonym")


class EDAAugmenter(Augmenter):
    """Each copy applies one operation, picked at random, to ``alpha`` of the words.

    Parameters
    ----------
    alpha : float
        Fraction of the words changed (at least one).
    operations : tuple of str
        Among ``swap``, ``insert``, ``delete`` (and ``synonym`` when ``synonyms``).
    synonyms : bool
        Add WordNet synonym replacement to the operations.

    Examples
    --------
    >>> a = EDAAugmenter(operations=("swap",))
    >>> sorted(a.augment(["one two three"], 1, rng=1)[0].split())
    ['one', 'three', 'two']
    """

    name = "eda"

    def __init__(
        self, *, alpha: float = 0.1, operations: tuple[str, ...] = ("swap", "insert", "delete"), synonyms: bool = False
    ):
        self.alpha = alpha
        self.operations = tuple(operations)
        self.synonyms = synonyms

    def _ops(self) -> tuple[str, ...]:
        ops = tuple(self.operations) + (("synonym",) if self.synonyms and "synonym" not in self.operations else ())
        bad = [o for o in ops if o not in OPERATIONS]
        if bad or not ops:
            raise ConfigError(f"unknown EDA operations {bad or ops}; options: {', '.join(OPERATIONS)}")
        return ops

    def _augment_one(self, text: str, rng: np.random.Generator) -> str:
        words = text.split()
        if len(words) < 2:
            return text
        ops = self._ops()
        op = ops[int(rng.integers(len(ops)))]
        n = max(1, int(round(self.alpha * len(words))))
        if op == "swap":
            for _ in range(n):
                i, j = rng.integers(len(words), size=2)
                words[i], words[j] = words[j], words[i]
        elif op == "insert":
            for _ in range(n):
                word = words[int(rng.integers(len(words)))]
                words.insert(int(rng.integers(len(words) + 1)), word)
        elif op == "delete":
            keep = rng.random(len(words)) >= self.alpha
            if not keep.any():
                keep[int(rng.integers(len(words)))] = True
            words = [w for w, k in zip(words, keep) if k]
        else:
            from fewtag.augment.synonym import SynonymAugmenter

            return SynonymAugmenter(alpha=self.alpha)._augment_one(text, rng)
        return " ".join(words)
