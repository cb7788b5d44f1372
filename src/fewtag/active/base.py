"""The query-strategy protocol: ``strategy.query(tagger, pool, labelled, n) -> list[Pick]``.

Modelled on small-text's ``QueryStrategy.query(clf, dataset, indices_unlabeled,
indices_labeled, y, n)``, with fewtag's objects: the tagger is any fitted
:class:`~fewtag.methods.base.BaseTagger` (or ``None`` before anything is labelled), the
pool and the labelled set are views that compute scores and vectors once, lazily, and are
shared by every strategy that looks at them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import InputError

if TYPE_CHECKING:
    from fewtag.methods.base import BaseTagger

__all__ = ["Pick", "Pool", "Labelled", "Vectors", "QueryStrategy", "REASONS", "top_n"]

#: Why an item was picked; shown beside it.
REASONS = {
    "uncertain": "the model is unsure about it",
    "diverse": "unlike the issues labelled so far",
    "check": "the model is sure: a spot check of its confident predictions",
    "cold-start": "picked before there is a model (clusters, label names)",
    "rare-label": "a likely example of a label with few or no examples yet",
    "random": "drawn at random",
}


def top_n(values: NDArray, n: int, exclude: set[int] | None = None) -> list[int]:
    """Indices of the ``n`` largest values, largest first; ties go to the lower index.

    >>> top_n(np.array([0.2, 0.9, 0.9, 0.1]), 2), top_n(np.array([0.2, 0.9, 0.9]), 2, {1})
    ([1, 2], [2, 0])
    """
    order = np.lexsort((np.arange(len(values)), -np.asarray(values, dtype=np.float64)))
    if exclude:
        order = np.array([i for i in order if int(i) not in exclude], dtype=np.int64)
    return [int(i) for i in order[:n]]


@dataclass(frozen=True)
class Pick:
    """One chosen pool row and why."""

    index: int
    reason: str


class Vectors:
    """Unit-row vectors of the labelled texts and the pool texts, computed together once.

    Parameters
    ----------
    embed : callable taking a list of texts, returning an array of shape (n, d)
        Called once with labelled + pool texts (so a corpus-level model like TF-IDF + SVD
        sees them all).
    labelled_texts, pool_texts : sequence of str
    """

    def __init__(self, embed: Callable[[list[str]], NDArray], labelled_texts: Sequence[str], pool_texts: Sequence[str]):
        self._embed = embed
        self._n_labelled = len(labelled_texts)
        self._texts = list(labelled_texts) + list(pool_texts)
        self._all: NDArray | None = None

    @classmethod
    def given(cls, labelled: NDArray, pool: NDArray) -> Vectors:
        """Vectors already computed."""
        v = cls(lambda _t: np.zeros((0, 0)), [], [])
        v._n_labelled = len(labelled)
        p = np.asarray(pool, dtype=np.float32)
        lab = np.asarray(labelled, dtype=np.float32).reshape(len(labelled), p.shape[1])
        v._all = np.vstack([lab, p])
        return v

    def _vectors(self) -> NDArray:
        if self._all is None:
            x = np.asarray(self._embed(self._texts), dtype=np.float32)
            if x.shape[0] != len(self._texts):
                raise RuntimeError(f"embedding returned {x.shape[0]} rows for {len(self._texts)} texts")
            self._all = x
        return self._all

    @property
    def labelled(self) -> NDArray:
        return self._vectors()[: self._n_labelled]

    @property
    def pool(self) -> NDArray:
        return self._vectors()[self._n_labelled :]


class Pool:
    """The unlabelled candidates.

    Parameters
    ----------
    texts : sequence of str, length n
        Model inputs (already through the text path).
    vectors : Vectors, optional
        For the diversity strategies.
    scores : ndarray of shape (n, n_labels), optional
        Precomputed tagger scores; otherwise computed from the tagger on first use.
    affinity : callable, optional
        ``affinity(labels, descriptions) -> (n, n_labels)`` zero-shot similarity to the
        label names; default :func:`fewtag.active.features.label_affinity` on ``texts``.
    """

    def __init__(
        self,
        texts: Sequence[str],
        *,
        vectors: Vectors | None = None,
        scores: NDArray | None = None,
        affinity: Callable[[Sequence[str], Mapping[str, str]], NDArray] | None = None,
    ):
        self.texts = list(texts)
        self._vectors = vectors
        self._scores = None if scores is None else np.asarray(scores, dtype=np.float64)
        self._affinity_fn = affinity
        self._affinity: dict[tuple[str, ...], NDArray] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def has_scores(self, tagger: BaseTagger | None) -> bool:
        return self._scores is not None or tagger is not None

    def scores(self, tagger: BaseTagger | None) -> NDArray[np.float64]:
        """Tagger scores of every pool text, shape ``(n, n_labels)`` (computed once)."""
        if self._scores is None:
            if tagger is None:
                raise InputError("no model yet: label a few items first (or use a cold-start strategy)")
            self._scores = tagger.predict_proba(self.texts) if self.texts else np.zeros((0, len(tagger.classes_)))
        return self._scores

    def vectors(self) -> NDArray:
        if self._vectors is None:
            from fewtag.active.features import tfidf_svd_vectors

            self._vectors = Vectors(tfidf_svd_vectors, [], self.texts)
        return self._vectors.pool

    def affinity(self, labels: Sequence[str], descriptions: Mapping[str, str] | None = None) -> NDArray:
        """Zero-shot similarity of each pool text to each label, shape ``(n, len(labels))``."""
        key = tuple(labels)
        if key not in self._affinity:
            if self._affinity_fn is not None:
                self._affinity[key] = np.asarray(self._affinity_fn(labels, descriptions or {}))
            else:
                from fewtag.active.features import label_affinity

                self._affinity[key] = label_affinity(self.texts, labels, descriptions)
        return self._affinity[key]


class Labelled:
    """What is labelled so far.

    Parameters
    ----------
    texts : sequence of str, length m
    y : ndarray of shape (m, n_labels), 0/1, columns in ``classes`` order
    classes : sequence of str
    multi_label : bool
    descriptions : dict, optional
    vectors : Vectors, optional (shared with the pool)
    """

    def __init__(
        self,
        texts: Sequence[str],
        y: NDArray,
        classes: Sequence[str],
        *,
        multi_label: bool,
        descriptions: Mapping[str, str] | None = None,
        vectors: Vectors | None = None,
    ):
        self.texts = list(texts)
        self.classes = list(classes)
        self.y = np.asarray(y, dtype=np.int8).reshape(len(self.texts), len(self.classes))
        self.multi_label = multi_label
        self.descriptions = dict(descriptions or {})
        self._vectors = vectors

    def __len__(self) -> int:
        return len(self.texts)

    def counts(self) -> NDArray[np.int64]:
        """Labelled examples per label, shape ``(n_labels,)``."""
        return self.y.sum(axis=0).astype(np.int64)

    def vectors(self) -> NDArray | None:
        return None if self._vectors is None or not len(self.texts) else self._vectors.labelled


class QueryStrategy(ABC):
    """Picks the next ``n`` pool rows to label.

    Subclasses store their keyword arguments in ``__init__`` and implement :meth:`_query`.
    A strategy that needs model scores (``needs_scores``) falls back to cold start when
    there is no model yet.
    """

    name: ClassVar[str] = "base"
    needs_scores: ClassVar[bool] = True

    def query(self, tagger: BaseTagger | None, pool: Pool, labelled: Labelled, n: int) -> list[Pick]:
        """The next ``min(n, len(pool))`` picks, distinct pool rows, best first.

        Raises
        ------
        InputError
            ``n`` is not a positive integer.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise InputError(f"the batch size must be a positive integer; got {n!r}")
        n = min(int(n), len(pool))
        if n == 0:
            return []
        if self.needs_scores and not pool.has_scores(tagger):
            return self._cold_start(pool, labelled, n)
        picks = self._query(tagger, pool, labelled, n)
        seen: set[int] = set()
        out = [p for p in picks if not (p.index in seen or seen.add(p.index))]  # type: ignore[func-returns-value]
        return out[:n]

    def _cold_start(self, pool: Pool, labelled: Labelled, n: int) -> list[Pick]:
        """Picks when there is no model yet (strategies that need scores override this)."""
        raise InputError(f"strategy {self.name!r} needs a model; label a few items first")

    @abstractmethod
    def _query(self, tagger: BaseTagger | None, pool: Pool, labelled: Labelled, n: int) -> list[Pick]: ...

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"
