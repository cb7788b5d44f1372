"""Random sampling and the uncertainty strategies (least confidence, breaking ties, entropy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from numpy.typing import NDArray

from fewtag.active.base import Labelled, Pick, Pool, QueryStrategy, top_n
from fewtag.active.coldstart import ColdStart
from fewtag.active.uncertainty import breaking_ties, entropy, least_confidence

if TYPE_CHECKING:
    from fewtag.methods.base import BaseTagger

__all__ = ["RandomSampling", "ConfidenceBased", "LeastConfidence", "BreakingTies", "Entropy"]


class RandomSampling(QueryStrategy):
    """Uniformly random pool rows (the baseline every strategy is measured against).

    >>> from fewtag.active.base import Labelled, Pool
    >>> picks = RandomSampling(random_state=0).query(None, Pool(["a", "b", "c"]), Labelled([], [], ["x", "y"],
    ...     multi_label=False), 2)
    >>> len({p.index for p in picks}), picks[0].reason
    (2, 'random')
    """

    name = "random"
    needs_scores = False

    def __init__(self, *, random_state: int = 0):
        self.random_state = random_state

    def _query(self, tagger, pool, labelled, n) -> list[Pick]:
        rng = np.random.default_rng(self.random_state + 7919 * len(labelled))
        return [Pick(int(i), "random") for i in rng.permutation(len(pool))[:n]]


class ConfidenceBased(QueryStrategy):
    """The ``n`` pool rows the model is least sure about, by ``uncertainty(scores)``."""

    needs_scores: ClassVar[bool] = True

    def uncertainty(self, scores: NDArray, multi_label: bool) -> NDArray:
        raise NotImplementedError

    def _cold_start(self, pool: Pool, labelled: Labelled, n: int) -> list[Pick]:
        return ColdStart(random_state=getattr(self, "random_state", 0)).query(None, pool, labelled, n)

    def _query(self, tagger: BaseTagger | None, pool: Pool, labelled: Labelled, n: int) -> list[Pick]:
        scores = pool.scores(tagger)
        multi = tagger.multi_label_ if tagger is not None else labelled.multi_label
        return [Pick(i, "uncertain") for i in top_n(self.uncertainty(scores, multi), n)]


class LeastConfidence(ConfidenceBased):
    """Smallest top score first (:func:`~fewtag.active.uncertainty.least_confidence`)."""

    name = "least-confidence"

    def __init__(self, *, random_state: int = 0):
        self.random_state = random_state

    def uncertainty(self, scores, multi_label):
        return least_confidence(scores, multi_label=multi_label)


class BreakingTies(ConfidenceBased):
    """Smallest margin between the two most likely labels first (:func:`~fewtag.active.uncertainty.breaking_ties`).

    >>> import numpy as np
    >>> from fewtag.active.base import Labelled, Pool
    >>> s = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.5, 0.1, 0.4]])
    >>> lab = Labelled([], np.zeros((0, 3)), ["a", "b", "c"], multi_label=False)
    >>> [p.index for p in BreakingTies().query(None, Pool(["x", "y", "z"], scores=s), lab, 2)]
    [1, 2]
    """

    name = "breaking-ties"

    def __init__(self, *, random_state: int = 0):
        self.random_state = random_state

    def uncertainty(self, scores, multi_label):
        return breaking_ties(scores, multi_label=multi_label)


class Entropy(ConfidenceBased):
    """Largest entropy first (sum of binary entropies for multi-label data)."""

    name = "entropy"

    def __init__(self, *, random_state: int = 0):
        self.random_state = random_state

    def uncertainty(self, scores, multi_label):
        return entropy(scores, multi_label=multi_label)
