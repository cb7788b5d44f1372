"""One labelling round over a store: what is labelled, train on it, pick the next batch.

The API behind ``fewtag next`` and the annotation page::

    task = LabelTask.from_labels("bug,docs,question")
    trained = train_current(store, task)              # .tagger .estimate .version .n_labelled
    for s in next_batch(store, task, n=20, trained=trained):
        print(s.item.title, s.reason, s.labels, s.scores)

An item's current label is its latest kept annotation (:mod:`fewtag.data.store_annotations`),
else its own GitHub labels mapped onto the task's labels. The pool is every other item of
the task that was not skipped.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.active.base import Labelled, Pool, Vectors
from fewtag.active.features import one_blas_thread, tfidf_svd_vectors
from fewtag.active.history import record_round, round_history
from fewtag.active.items import DEFAULT_TEXT, item_text, labelled, pool, split_items
from fewtag.active.registry import DEFAULT_STRATEGY, get_strategy
from fewtag.active.stopping import stopping_hint
from fewtag.active.task import LabelTask
from fewtag.crossval import CVEstimate, fit_with_cv
from fewtag.data.store import Item, Store
from fewtag.decision import DecisionSpec
from fewtag.errors import InputError
from fewtag.labels import binarize
from fewtag.methods.base import BaseTagger
from fewtag.registry import create

__all__ = [
    "LabelTask",
    "Trained",
    "Suggestion",
    "labelled",
    "pool",
    "train_current",
    "next_batch",
    "item_text",
    "stopping_hint",
    "record_round",
    "round_history",
    "DEFAULT_METHOD",
]

DEFAULT_METHOD = "tfidf-logreg"
_TEXT = DEFAULT_TEXT


# ------------------------------------------------------------------- train
@dataclass
class Trained:
    """The model of one round.

    Attributes
    ----------
    tagger : BaseTagger or None
        Fitted on every labelled item; ``None`` when fewer than two labels have examples.
    estimate : CVEstimate or None
        Cross-validated quality of ``tagger`` (:func:`fewtag.crossval.fit_with_cv`); computed
        over the labels with at least 2 examples (``estimate_labels``), ``None`` when fewer
        than two labels have 2, or when ``estimate=False`` was asked.
    version : str
        Id of this model: the method, seed and a hash of the labelled items and labels.
    n_labelled : int
        Items it was trained on.
    counts : dict of str to int
        Labelled examples per label.
    """

    tagger: BaseTagger | None
    estimate: CVEstimate | None
    version: str
    n_labelled: int
    counts: dict[str, int] = field(default_factory=dict)
    method: str = DEFAULT_METHOD
    seed: int = 0
    estimate_labels: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> dict[str, Any] | None:
        """:meth:`CVEstimate.summary` of the estimate (micro/macro F1 mean, sd, 95% interval), or None."""
        return None if self.estimate is None else self.estimate.summary()


def _version(method: str, seed: int, task: LabelTask, items: Sequence[Item], labels: Sequence[list[str]]) -> str:
    h = hashlib.sha256(json.dumps([method, seed, task.labels, task.multi_label]).encode())
    for item, labs in zip(items, labels):
        h.update(f"{item.repo}\x00{item.id}\x00{item.updated_at}\x00{'|'.join(labs)}\x01".encode())
    return f"{method}-{len(items)}-{h.hexdigest()[:10]}"


@one_blas_thread()  # small fits: two BLAS threads spin on busy cores
def train_current(
    store: Store,
    task: LabelTask,
    *,
    method: str = DEFAULT_METHOD,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    estimate: bool = True,
    log: Callable[[str], None] | None = None,
) -> Trained:
    """Fit ``method`` on everything labelled now (see :func:`labelled`).

    Parameters
    ----------
    method, params : the tagging method and its constructor arguments
    estimate : bool
        Cross-validate (k + 1 fits) for the quality estimate; ``False`` fits once.

    Raises
    ------
    UnknownMethodError, ConfigError
        A bad method name or parameter (before anything is fitted).
    """
    start = time.perf_counter()
    create(method, params, seed=seed)  # a bad name fails first
    items, labels = labelled(store, task)
    keep = [i for i, labs in enumerate(labels) if task.multi_label or len(labs) == 1]
    items = [items[i] for i in keep]
    labels = [labels[i] for i in keep]
    version = _version(method, seed, task, items, labels)
    y = binarize(labels, task.labels) if labels else np.zeros((0, len(task.labels)), dtype=np.int8)
    counts = {lab: int(c) for lab, c in zip(task.labels, y.sum(axis=0))}
    out = Trained(None, None, version, len(items), counts, method, seed)
    if sum(1 for c in counts.values() if c > 0) < (2 if not task.multi_label else 1) or len(items) < 2:
        out.seconds = time.perf_counter() - start
        return out
    texts = [item_text(i) for i in items]
    targets: list[Any] = labels if task.multi_label else [labs[0] for labs in labels]

    def make() -> BaseTagger:
        return create(method, params, seed=seed)

    def plain() -> BaseTagger:
        return make().fit(texts, targets, classes=task.labels, multi_label=task.multi_label, text=_TEXT)

    cols = np.flatnonzero(y.sum(axis=0) >= 2)
    if not estimate or len(cols) < 2:
        out.tagger = plain()
    elif len(cols) == len(task.labels):
        try:
            out.tagger, out.estimate = fit_with_cv(
                make,
                texts,
                y,
                list(task.labels),
                multi_label=task.multi_label,
                decision=DecisionSpec(),
                text=_TEXT,
                seed=seed,
                log=log,
            )
            out.estimate_labels = list(task.labels)
        except InputError:
            out.tagger = plain()
    else:
        rows = np.arange(len(texts)) if task.multi_label else np.flatnonzero(y[:, cols].any(axis=1))
        sub_classes = [task.labels[int(j)] for j in cols]
        try:
            _, out.estimate = fit_with_cv(
                make,
                [texts[i] for i in rows],
                y[np.ix_(rows, cols)],
                sub_classes,
                multi_label=task.multi_label,
                decision=DecisionSpec(),
                text=_TEXT,
                seed=seed,
                log=log,
            )
            out.estimate_labels = sub_classes
        except InputError:
            out.estimate = None
        out.tagger = plain()
    out.seconds = time.perf_counter() - start
    return out


# ------------------------------------------------------------------ next
@dataclass
class Suggestion:
    """One item worth labelling next.

    Attributes
    ----------
    item : Item
    labels : list of str
        The model's suggestion (empty before there is a model, or when it abstains).
    scores : dict of str to float
        The model's score per label (empty before there is a model).
    reason : str
        One of :data:`fewtag.active.base.REASONS`: ``"uncertain"``, ``"diverse"``, ``"check"``,
        ``"cold-start"``, ``"rare-label"``, ``"random"``.
    model_version : str
        :attr:`Trained.version` of the model that made the suggestion.
    """

    item: Item
    labels: list[str]
    scores: dict[str, float]
    reason: str
    model_version: str


def _encoder_embed(tagger: BaseTagger | None, method: str, params: dict[str, Any] | None, seed: int):
    """The method's own encoder (``texts -> unit vectors``), when it is an encoder method."""
    probe = tagger if tagger is not None else create(method, params, seed=seed)
    embed = getattr(probe, "_embed", None)
    return embed if callable(embed) else None


def next_batch(
    store: Store,
    task: LabelTask,
    *,
    n: int = 20,
    strategy: str = DEFAULT_STRATEGY,
    method: str = DEFAULT_METHOD,
    seed: int = 0,
    trained: Trained | None = None,
    params: dict[str, Any] | None = None,
    features: str = "auto",
    exclude: Iterable[tuple[str, str]] = (),
) -> list[Suggestion]:
    """The next ``n`` pool items to label, best first.

    Parameters
    ----------
    n : int
        Batch size.
    strategy : str
        A name from :func:`fewtag.active.registry.available_strategies`. With no model yet
        (too few labels) every model-based strategy falls back to ``cold-start``.
    method : str
        Tagging method (used when ``trained`` is not given).
    trained : Trained, optional
        The model of this round, when already trained (the page retrains in the background).
    features : {"auto", "tfidf-svd", "encoder"}
        Vectors of the diversity step: ``auto`` uses the method's encoder for an encoder
        method and TF-IDF + SVD (cached in the store) otherwise.
    exclude : iterable of (repo, id)
        Items not to offer (e.g. the ones on screen).

    Raises
    ------
    ConfigError
        An unknown strategy (the message lists them) or feature source.
    InputError
        ``n`` is not positive.
    """
    from fewtag.errors import ConfigError

    if features not in ("auto", "tfidf-svd", "encoder"):
        raise ConfigError(f"features must be auto, tfidf-svd or encoder; got {features!r}")
    chooser = get_strategy(strategy, random_state=seed)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"--n must be a positive integer; got {n!r}")
    if trained is None:
        trained = train_current(store, task, method=method, seed=seed, params=params, estimate=False)
    skip = set(exclude)
    lab_items, lab_labels, rest, every_item = split_items(store, task)
    candidates = [i for i in rest if (i.repo, i.id) not in skip]
    if not candidates:
        return []
    tagger = trained.tagger
    spec = tagger.text_of_spec() if tagger is not None else _TEXT
    pool_texts = [item_text(i, spec) for i in candidates]
    lab_texts = [item_text(i, spec) for i in lab_items]
    embed = None
    if features in ("auto", "encoder"):
        embed = _encoder_embed(tagger, trained.method, params, seed)
        if embed is None and features == "encoder":
            raise ConfigError(f"method {trained.method!r} has no encoder; use --features tfidf-svd")
    if embed is None:
        every = [item_text(i, spec) for i in every_item]  # the whole corpus, store order: the same every round

        def embed(texts: list[str]) -> NDArray:  # the whole task corpus once, cached in the store
            vecs = tfidf_svd_vectors(every, seed=seed, store=store)
            row = {t: k for k, t in enumerate(every)}
            return vecs[[row[t] for t in texts]]

    vectors = Vectors(embed, lab_texts, pool_texts)
    view = Pool(pool_texts, vectors=vectors)
    known = Labelled(
        lab_texts,
        binarize(lab_labels, task.labels) if lab_labels else np.zeros((0, len(task.labels))),
        task.labels,
        multi_label=task.multi_label,
        descriptions=task.descriptions,
        vectors=vectors,
    )
    with one_blas_thread():
        picks = chooser.query(tagger, view, known, n)
        scores = view.scores(tagger) if tagger is not None else None
    chosen = None
    if tagger is not None and scores is not None and picks:
        chosen = tagger.decision_.apply(scores[[p.index for p in picks]])
    out = []
    for k, p in enumerate(picks):
        row_scores: dict[str, float] = {}
        suggested: list[str] = []
        if scores is not None and chosen is not None and tagger is not None:
            row_scores = {c: round(float(v), 4) for c, v in zip(tagger.classes_, scores[p.index])}
            suggested = [tagger.classes_[j] for j in np.flatnonzero(chosen[k])]
        out.append(Suggestion(candidates[p.index], suggested, row_scores, p.reason, trained.version))
    return out
