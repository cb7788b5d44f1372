"""Replay labelling with the gold labels as the annotator: how fast each strategy learns.

For each strategy and seed the training split (or a seeded sample of it) is the pool, with
its labels hidden. Starting from nothing, each round fits the method on what is labelled
(no model before two labels have examples: a cold start), scores the pool, lets the
strategy pick the next ``batch`` items and reveals their gold labels. At each budget the
model is scored on the validation split (for choosing a strategy) and on the test split
(reported). The method's default decision rule is used throughout (top-1 for single-label
data, 0.5 per label for multi-label data), the same for every strategy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.active.base import Labelled, Pool, Vectors
from fewtag.active.features import one_blas_thread, tfidf_svd_vectors
from fewtag.active.registry import get_strategy
from fewtag.data.dataset import PreparedDataset, Split
from fewtag.errors import ConfigError
from fewtag.methods.base import BaseTagger
from fewtag.metrics import macro_f1, micro_f1
from fewtag.registry import create

__all__ = ["SimulationSettings", "simulate", "budgets_to_match", "DEFAULT_BUDGETS"]

DEFAULT_BUDGETS = [8, 16, 32, 64, 128, 256]


@dataclass
class SimulationSettings:
    """What :func:`simulate` runs.

    Attributes
    ----------
    strategies : list of str
        Strategy names (``random`` is the baseline; include it to compare).
    budgets : list of int
        Labelled-set sizes at which the model is scored (increasing).
    batch : int
        Items labelled per round.
    method : str
        Tagging method; ``params`` its constructor arguments.
    seeds : int
        Runs per strategy (seeds 0 .. seeds-1: the pool sample, the strategy's randomness, the method's seed).
    pool_size : int, optional
        Sample this many training items as the pool (default: the whole training split).
    eval_size : int, optional
        Score on at most this many validation and test items (a seeded sample, the same for every run).
    strategy_params : dict of str to dict
        Extra parameters per strategy name.
    """

    strategies: list[str]
    budgets: list[int] = field(default_factory=lambda: list(DEFAULT_BUDGETS))
    batch: int = 8
    method: str = "tfidf-logreg"
    seeds: int = 3
    params: dict[str, Any] = field(default_factory=dict)
    pool_size: int | None = None
    eval_size: int | None = None
    strategy_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.strategies:
            raise ConfigError("--strategies names no strategy")
        for name in self.strategies:
            get_strategy(name, **self.strategy_params.get(name, {}))  # unknown names list the valid ones
        if not self.budgets or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in self.budgets):
            raise ConfigError(f"--budgets must be positive integers; got {self.budgets!r}")
        self.budgets = sorted(set(self.budgets))
        for name, count in (("--batch", self.batch), ("--seeds", self.seeds)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                raise ConfigError(f"{name} must be a positive integer; got {count!r}")
        for name, size in (("--pool-size", self.pool_size), ("--eval-size", self.eval_size)):
            if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 2):
                raise ConfigError(f"{name} must be an integer >= 2; got {size!r}")
        create(self.method, self.params, seed=0)  # a bad method or parameter fails before any work


def _sample(split: Split, size: int | None, seed: int) -> Split:
    if size is None or size >= len(split):
        return split
    rows = np.sort(np.random.default_rng(seed).choice(len(split), size, replace=False))
    return split.subset(rows)


def _fit(
    settings: SimulationSettings, texts: list[str], y: NDArray, classes: list[str], multi: bool, seed: int
) -> BaseTagger | None:
    counts = y.sum(axis=0)
    if len(texts) < 2 or (np.count_nonzero(counts) < (1 if multi else 2)):
        return None
    labels: list[Any] = (
        [[classes[j] for j in np.flatnonzero(row)] for row in y] if multi else [classes[int(np.argmax(r))] for r in y]
    )
    return create(settings.method, settings.params, seed=seed).fit(texts, labels, classes=classes, multi_label=multi)


def _scores(tagger: BaseTagger | None, split: Split, classes: list[str]) -> tuple[float, float]:
    y = split.y(classes)
    if tagger is None:
        pred = np.zeros_like(y, dtype=bool)
    else:
        pred = tagger.predict_indicator(split.texts)
    return float(micro_f1(y, pred)), float(macro_f1(y, pred))


def simulate(
    ds: PreparedDataset,
    settings: SimulationSettings,
    *,
    log: Callable[[str], None] | None = None,
    embed: Callable[[list[str]], NDArray] | None = None,
) -> list[dict[str, Any]]:
    """One row per (strategy, seed, budget): ``strategy, budget, seed, labelled, labels_seen,
    micro_f1, macro_f1, val_micro_f1, val_macro_f1, seconds_per_round, rounds``.

    Parameters
    ----------
    ds : a prepared dataset (train = pool, valid, test)
    embed : callable, optional
        Vectors of the pool for the diversity steps; default TF-IDF + SVD of the pool.

    Raises
    ------
    ConfigError
        Bad settings; InputError: no validation or test split.
    """
    from fewtag.errors import InputError

    say = log or (lambda _m: None)
    if not len(ds.valid) or not len(ds.test):
        raise InputError("simulate needs validation and test splits (a prepared folder, or a file it can split)")
    classes, multi = list(ds.labels), ds.multi_label
    valid = _sample(ds.valid, settings.eval_size, 10_001)
    test = _sample(ds.test, settings.eval_size, 10_002)
    rows: list[dict[str, Any]] = []
    for seed in range(settings.seeds):
        train = _sample(ds.train, settings.pool_size, seed)
        texts = list(train.texts)
        gold = train.y(classes)
        vectors = np.asarray(embed(texts) if embed is not None else tfidf_svd_vectors(texts, seed=seed))
        budgets = [b for b in settings.budgets if b <= len(texts)]
        for name in settings.strategies:
            strategy = get_strategy(name, random_state=seed, **settings.strategy_params.get(name, {}))
            say(f"{name}, seed {seed}: pool of {len(texts)}, budgets up to {budgets[-1] if budgets else 0}")
            with one_blas_thread():
                rows += _run(settings, strategy, name, seed, texts, gold, vectors, classes, multi, budgets, valid, test)
    return rows


def _run(settings, strategy, name, seed, texts, gold, vectors, classes, multi, budgets, valid, test):
    available = np.ones(len(texts), dtype=bool)
    chosen: list[int] = []
    tagger: BaseTagger | None = None
    fitted_for = -1
    times: list[float] = []
    rows = []
    todo = list(budgets)
    while todo:
        start = time.perf_counter()
        if fitted_for != len(chosen):
            tagger = _fit(settings, [texts[i] for i in chosen], gold[chosen], classes, multi, seed)
            fitted_for = len(chosen)
        free = np.flatnonzero(available)
        pool = Pool([texts[i] for i in free], vectors=Vectors.given(vectors[chosen], vectors[free]))
        known = Labelled([texts[i] for i in chosen], gold[chosen], classes, multi_label=multi)
        n = min(settings.batch, todo[0] - len(chosen))
        picks = strategy.query(tagger, pool, known, n)
        if not picks:
            break
        for p in picks:
            chosen.append(int(free[p.index]))
            available[free[p.index]] = False
        times.append(time.perf_counter() - start)
        if len(chosen) >= todo[0]:
            budget = todo.pop(0)
            tagger = _fit(settings, [texts[i] for i in chosen], gold[chosen], classes, multi, seed)
            fitted_for = len(chosen)
            val_micro, val_macro = _scores(tagger, valid, classes)
            test_micro, test_macro = _scores(tagger, test, classes)
            rows.append(
                {
                    "strategy": name,
                    "budget": budget,
                    "seed": seed,
                    "labelled": len(chosen),
                    "labels_seen": int(np.count_nonzero(gold[chosen].sum(axis=0))),
                    "micro_f1": round(test_micro, 4),
                    "macro_f1": round(test_macro, 4),
                    "val_micro_f1": round(val_micro, 4),
                    "val_macro_f1": round(val_macro, 4),
                    "seconds_per_round": round(float(np.mean(times)), 4),
                    "rounds": len(times),
                    "pool": len(texts),
                }
            )
    return rows


def budgets_to_match(
    summary: Sequence[dict[str, Any]], strategy: str, *, baseline: str = "random", at: int = 128, key: str = "macro_f1"
) -> int | None:
    """The smallest budget at which ``strategy``'s mean ``key`` reaches ``baseline``'s mean at ``at``; None if never.

    >>> s = [{"strategy": "random", "budget": 128, "macro_f1": 0.5},
    ...      {"strategy": "x", "budget": 32, "macro_f1": 0.4}, {"strategy": "x", "budget": 64, "macro_f1": 0.52}]
    >>> budgets_to_match(s, "x")
    64
    """
    ref = [r[key] for r in summary if r["strategy"] == baseline and r["budget"] == at]
    if not ref:
        return None
    mine = sorted((r for r in summary if r["strategy"] == strategy), key=lambda r: r["budget"])
    return next((int(r["budget"]) for r in mine if r[key] >= ref[0] - 1e-12), None)
