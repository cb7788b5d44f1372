"""Train on every labelled row; tune and judge on out-of-fold scores.

The pattern of scikit-learn's ``TunedThresholdClassifierCV``:

1. split the labelled rows into stratified folds (iterative stratification
   for multi-label data, scikit-learn's ``StratifiedKFold`` for single-label
   data; 5 folds, fewer when a label has fewer examples);
2. fit one tagger per fold on the other folds and score the held-out fold, so
   every row gets a score it was not trained on (for a method with a
   hyperparameter picked at tuning time, kNN's ``k``, one score matrix per
   candidate);
3. fit the final tagger on **all** rows and tune its decision rule (and the
   candidate) on those out-of-fold scores;
4. estimate the final model's quality fold by fold: the rule is tuned on the
   other folds' out-of-fold scores and scored on the held-out fold, and the
   mean over folds comes with a 95% t-interval.

Methods whose ``tuning`` is ``"holdout"`` (slow to fit, or using validation
inside ``fit``: setfit, finetune, ensemble, self-train) are fitted once on
``1 - 1/k`` of the rows with the rest as validation, then refitted on all
rows with the rule tuned on that validation fold; the estimate is then the
mean over the validation fold's two halves, each scored with the rule tuned
on the other half. The output and ``fewtag.json`` say which was used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.data.text import TextSpec
from fewtag.decision import DecisionSpec
from fewtag.errors import InputError
from fewtag.labels import indicator_to_labels
from fewtag.methods.base import BaseTagger
from fewtag.metrics import macro_f1, mean_interval, micro_f1, per_label_scores
from fewtag.tuning import tune_decision

__all__ = ["CVEstimate", "fold_count", "make_folds", "fit_with_cv", "DEFAULT_FOLDS"]

DEFAULT_FOLDS = 5


@dataclass
class CVEstimate:
    """The expected quality of a model trained on all rows, from out-of-fold scores.

    Attributes
    ----------
    strategy : str
        ``"5-fold out-of-fold"`` or ``"holdout (1 validation fold of 5)"``.
    folds : list of dict
        Per fold: ``micro_f1``, ``macro_f1``, ``per_label`` (label -> F1), ``size``.
    """

    strategy: str
    n_rows: int
    folds: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Mean, sd and 95% interval over folds of micro/macro F1, and per-label mean F1."""
        out: dict[str, Any] = {"strategy": self.strategy, "rows": self.n_rows, "folds": len(self.folds)}
        for key in ("micro_f1", "macro_f1"):
            out[key] = _rounded(mean_interval([f[key] for f in self.folds]))
        labels = list(self.folds[0]["per_label"]) if self.folds else []
        out["per_label_f1"] = {
            lab: round(float(np.mean([f["per_label"][lab] for f in self.folds])), 4) for lab in labels
        }
        out["per_fold"] = [
            {"micro_f1": round(f["micro_f1"], 4), "macro_f1": round(f["macro_f1"], 4), "size": f["size"]}
            for f in self.folds
        ]
        return out


def _rounded(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in stats.items()}


def fold_count(y: NDArray, requested: int = DEFAULT_FOLDS) -> int:
    """Folds to use: ``requested``, fewer when a label has fewer examples, at least 2.

    Raises
    ------
    InputError
        A label has a single example (it cannot be both trained on and held out).

    >>> fold_count(np.array([[1, 0]] * 3 + [[0, 1]] * 9))
    3
    """
    counts = np.asarray(y).sum(axis=0)
    rarest = int(counts.min()) if counts.size else 0
    if rarest < 2:
        raise InputError(
            f"a label has {rarest} example(s); each label needs at least 2 to be "
            "cross-validated (add examples or drop the label)"
        )
    return int(max(2, min(requested, rarest)))


def make_folds(y: NDArray, *, multi_label: bool, n_splits: int, seed: int = 0) -> list[NDArray[np.int64]]:
    """Held-out row indices of each fold (sorted), stratified and seeded."""
    y = np.asarray(y)
    idx = np.arange(len(y))
    if multi_label:
        from skmultilearn.model_selection import IterativeStratification

        order = np.random.RandomState(seed).permutation(len(y))
        strat = IterativeStratification(n_splits=n_splits, order=1)
        saved = np.random.get_state()  # skmultilearn breaks ties with numpy's global generator
        np.random.seed(seed)
        try:
            folds = [np.sort(order[test]) for _, test in strat.split(np.zeros((len(y), 1)), y[order])]
        finally:
            np.random.set_state(saved)
    else:
        from sklearn.model_selection import StratifiedKFold

        skf = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        folds = [np.sort(test) for _, test in skf.split(idx, y.argmax(axis=1))]
    return [f for f in folds if len(f)]


def _fold_metrics(y: NDArray, pred: NDArray, classes: Sequence[str]) -> dict[str, Any]:
    f1 = per_label_scores(y, pred)["f1"]
    return {
        "micro_f1": micro_f1(y, pred),
        "macro_f1": macro_f1(y, pred),
        "per_label": {c: float(v) for c, v in zip(classes, f1)},
        "size": int(len(y)),
    }


def fit_with_cv(
    make: Callable[[], BaseTagger],
    texts: list[str],
    y: NDArray,
    classes: list[str],
    *,
    multi_label: bool,
    decision: DecisionSpec,
    text: TextSpec,
    unlabelled: list[str] | None = None,
    n_folds: int = DEFAULT_FOLDS,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
    calibrate: bool = True,
) -> tuple[BaseTagger, CVEstimate]:
    """Fit ``make()`` on all rows, tuned on out-of-fold scores; return it and its estimate.

    Parameters
    ----------
    make : callable returning an unfitted tagger (the same parameters each time)
    texts : list of str, length n
    y : ndarray of shape (n, n_classes), 0/1
    classes : list of str
    decision : what the rule is tuned for
    text : the text settings saved with the model
    n_folds : folds requested (fewer when a label is rarer)
    calibrate : fit per-label calibration (:mod:`fewtag.calibration`) on the out-of-fold
        (or validation) scores, save it with the model and tune the rule on calibrated scores;
        the estimate then uses cross-fitted calibrated scores
    """
    say = log or (lambda _msg: None)
    y = np.asarray(y, dtype=np.int8)
    k = fold_count(y, n_folds)
    folds = make_folds(y, multi_label=multi_label, n_splits=k, seed=seed)
    labels = indicator_to_labels(y, classes, multi_label)
    probe = make()
    if probe.tuning == "holdout":
        return _fit_holdout(
            make,
            texts,
            y,
            labels,
            classes,
            folds,
            multi_label=multi_label,
            decision=decision,
            text=text,
            unlabelled=unlabelled,
            say=say,
            calibrate=calibrate,
            seed=seed,
        )
    oof: dict[Any, NDArray] | None = None
    for i, held in enumerate(folds, 1):
        say(f"fold {i}/{len(folds)}: fitting on {len(texts) - len(held)} rows")
        train = np.setdiff1d(np.arange(len(texts)), held)
        tagger = _fit_on(make(), texts, labels, train, classes, multi_label, decision, unlabelled)
        cands = tagger._candidate_scores([texts[j] for j in held])
        if oof is None:
            oof = {key: np.zeros((len(texts), len(classes))) for key in cands}
        for key in list(oof):
            if key in cands:
                oof[key][held] = cands[key]
            else:  # a candidate a smaller fold could not offer (kNN's k > its rows)
                del oof[key]
    assert oof is not None
    say(f"fitting the final model on all {len(texts)} rows")
    final = make().fit(
        texts, labels, classes=classes, multi_label=multi_label, decision=decision, text=text, unlabelled=unlabelled
    )
    final.tune_scores(oof, y)
    chosen = oof[final.tuned_candidate_]  # the out-of-fold scores of the candidate it adopted
    if calibrate:
        chosen = _calibrate(final, chosen, y, multi_label, "out-of-fold", seed, say)
    spec = final.decision_spec()
    estimate = CVEstimate(strategy=f"{len(folds)}-fold out-of-fold", n_rows=len(texts))
    for held in folds:
        rest = np.setdiff1d(np.arange(len(texts)), held)
        rule = tune_decision(chosen[rest], y[rest], multi_label=multi_label, classes=classes, spec=spec)
        estimate.folds.append(_fold_metrics(y[held], rule.apply(chosen[held]), classes))
    return final, estimate


def _fit_on(
    tagger: BaseTagger,
    texts: list[str],
    labels: list[Any],
    rows: NDArray,
    classes: list[str],
    multi_label: bool,
    decision: DecisionSpec,
    unlabelled: list[str] | None,
    validation: NDArray | None = None,
) -> BaseTagger:
    """Fit ``tagger`` on the ``rows`` of the data (and tune on the ``validation`` rows, if given)."""
    val = None if validation is None else ([texts[j] for j in validation], [labels[j] for j in validation])
    return tagger.fit(
        [texts[j] for j in rows],
        [labels[j] for j in rows],
        classes=classes,
        multi_label=multi_label,
        decision=decision,
        unlabelled=unlabelled,
        validation=val,
    )


def _calibrate(
    tagger: BaseTagger, scores: NDArray, y: NDArray, multi_label: bool, fitted_on: str, seed: int, say: Callable
) -> NDArray:
    """Fit and keep the calibration on held-out ``scores``, retune the rule on calibrated scores,
    and return cross-fitted calibrated scores (for an honest estimate); ``scores`` when too few rows."""
    from fewtag.calibration import MIN_ROWS, cross_fitted, fit_calibration

    if len(y) < MIN_ROWS:
        say(f"not calibrating: {len(y)} held-out rows, fewer than {MIN_ROWS}")
        return scores
    cal = fit_calibration(scores, y, multi_label=multi_label, fitted_on=fitted_on, seed=seed)
    tagger.set_calibration(cal)
    tagger.tune_scores(cal.apply(scores), y)
    say(f"calibrated on {fitted_on} scores: ECE {cal.ece['before']:.3f} -> {cal.ece['after']:.3f}")
    return cross_fitted(scores, y, multi_label=multi_label, seed=seed)


def _fit_holdout(
    make, texts, y, labels, classes, folds, *, multi_label, decision, text, unlabelled, say, calibrate=True, seed=0
):
    held = folds[0]
    train = np.setdiff1d(np.arange(len(texts)), held)
    say(f"tuning on one validation fold ({len(held)} rows) after fitting on {len(train)}")
    first = _fit_on(make(), texts, labels, train, classes, multi_label, decision, unlabelled, validation=held)
    val_scores = first.predict_proba([texts[j] for j in held])
    spec = first.decision_spec()
    estimate = CVEstimate(strategy=f"holdout (1 validation fold of {len(folds)})", n_rows=len(texts))
    halves = np.array_split(np.random.RandomState(0).permutation(len(held)), 2)
    for a, b in (halves, halves[::-1]):
        if len(a) and len(b):
            rule = tune_decision(val_scores[a], y[held][a], multi_label=multi_label, classes=classes, spec=spec)
            estimate.folds.append(_fold_metrics(y[held][b], rule.apply(val_scores[b]), classes))
    del first
    say(f"refitting on all {len(texts)} rows")
    final = make().fit(
        texts, labels, classes=classes, multi_label=multi_label, decision=decision, text=text, unlabelled=unlabelled
    )
    final.tune_scores(val_scores, y[held])
    if calibrate:
        _calibrate(final, val_scores, y[held], multi_label, "validation", seed, say)
    return final, estimate
