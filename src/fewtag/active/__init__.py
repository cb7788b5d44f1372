"""Active learning: which issues to label next (query strategies, a labelling round, simulation).

>>> from fewtag.active import available_strategies
>>> "breaking-ties" in available_strategies()
True

Strategies follow one protocol, ``strategy.query(tagger, pool, labelled, n)``
(:mod:`fewtag.active.base`); :mod:`fewtag.active.session` runs a round over a store;
:mod:`fewtag.active.simulate` replays labelling with gold labels as the annotator.
"""

from fewtag.active.base import REASONS, Labelled, Pick, Pool, QueryStrategy, Vectors
from fewtag.active.registry import DEFAULT_STRATEGY, STRATEGIES, available_strategies, get_strategy
from fewtag.active.stopping import stopping_hint
from fewtag.active.task import LabelTask

__all__ = [
    "REASONS",
    "Labelled",
    "Pick",
    "Pool",
    "QueryStrategy",
    "Vectors",
    "DEFAULT_STRATEGY",
    "STRATEGIES",
    "available_strategies",
    "get_strategy",
    "stopping_hint",
    "LabelTask",
]
