"""Tuning a decision rule on scores with known labels (validation or out-of-fold).

:func:`tune_decision` serves a :class:`~fewtag.decision.DecisionSpec`: it is the
one entry point for every method. Tuning maximises micro F1 by default; with
``objective="macro"`` each label gets the threshold that maximises its own F1
(macro F1 is the mean of per-label F1s and each depends only on its own
threshold, so this is the macro-F1-best rule; it lifts rare labels at some cost
in micro F1). Precision targets give a label the lowest threshold whose tuning
precision reaches the target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.decision import RULE_KINDS, DecisionRule, DecisionSpec, check_objective
from fewtag.metrics import fast_macro_f1, fast_micro_f1

__all__ = ["tune_decision", "tune_rule", "best_label_f1", "objective_value"]

_GRID = np.round(np.arange(0.02, 1.0, 0.02), 2)


def objective_value(y_true: NDArray, y_pred: NDArray, objective: str = "micro") -> float:
    """Micro or macro F1 of boolean predictions: the quantity a spec's tuning maximises.

    >>> objective_value(np.array([[1, 0], [0, 1]]), np.array([[True, False], [True, False]]), "macro")
    0.3333333333333333
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, dtype=bool)
    return fast_macro_f1(y_true, y_pred) if check_objective(objective) == "macro" else fast_micro_f1(y_true, y_pred)


def best_label_f1(scores: NDArray[np.float64], y_true: NDArray[np.int_]) -> tuple[float, float]:
    """The F1-best threshold of one label: ``(f1, threshold)``.

    Every distinct score is a candidate; the threshold returned lies halfway
    between the best candidate and the next lower score, so that a test text
    scoring a little under the lowest kept validation positive still counts.
    Keeping every text is not a candidate (unless every text is positive): it
    carries no information, and for a label the classifier cannot score (none
    in a small training slice, so one constant score) it would tag every text
    for a small F1 and wreck micro F1. Such a label, and one with no positive,
    gets F1 0 and a threshold above every score.

    Parameters
    ----------
    scores : ndarray of shape (n_texts,)
    y_true : ndarray of shape (n_texts,), 0/1

    Examples
    --------
    >>> best_label_f1(np.array([0.9, 0.6, 0.4, 0.1]), np.array([1, 1, 0, 0]))
    (1.0, 0.5)
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(y_true).astype(bool)
    n_pos = int(y.sum())
    if n_pos == 0 or not len(s):
        return 0.0, float(s.max(initial=1.0)) + 1e-9
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    tp = np.cumsum(y_sorted)
    kept = np.arange(1, len(s) + 1)
    last = np.r_[s_sorted[1:] != s_sorted[:-1], True]  # ties: keep all texts with that score
    f1 = np.where(last, 2.0 * tp / (kept + n_pos), -1.0)
    if n_pos < len(s):
        f1[-1] = -1.0  # keep-all
    i = int(np.argmax(f1))
    if f1[i] < 0:
        return 0.0, float(s_sorted[0]) + 1e-9
    below = s_sorted[i + 1] if i + 1 < len(s) else s_sorted[i] - 1e-6
    return float(f1[i]), float((s_sorted[i] + below) / 2.0)


def tune_rule(
    scores: NDArray[np.float64],
    y_true: NDArray[np.int_],
    *,
    multi_label: bool,
    kinds: tuple[str, ...] | None = None,
    precision_target: float | None = None,
    objective: str = "micro",
) -> DecisionRule:
    """Pick the decision rule with the best micro (or macro) F1 on validation scores.

    Parameters
    ----------
    scores : ndarray of shape (n_texts, n_classes)
    y_true : ndarray of shape (n_texts, n_classes), 0/1
    multi_label : bool
        Single-label data only tries ``top-k`` with ``k=1`` (and an abstain floor).
    kinds : tuple of str, optional
        Rule kinds to try; default all that suit the data.
    precision_target : float, optional
        For ``per-label``: the lowest threshold whose validation precision reaches
        the target, per label, instead of the F1-best one.
    objective : {"micro", "macro"}
        "macro" (multi-label, no precision target): one F1-best threshold per
        label (:func:`best_label_f1`), abstaining allowed; ``kinds`` is ignored.

    Returns
    -------
    DecisionRule
    """
    check_objective(objective)
    scores = np.asarray(scores, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=int)
    if multi_label and objective == "macro" and precision_target is None:
        thresholds = [best_label_f1(scores[:, j], y_true[:, j])[1] for j in range(scores.shape[1])]
        return DecisionRule("per-label", thresholds=thresholds, abstain=True)
    lo, hi = float(scores.min(initial=0.0)), float(scores.max(initial=1.0))
    grid = np.unique(np.concatenate([_GRID, np.quantile(scores, np.linspace(0, 1, 41))]))
    grid = grid[(grid >= lo) & (grid <= hi)] if hi > lo else np.array([lo])
    if not multi_label:
        return DecisionRule("top-k", k=1, abstain=False)
    candidates: list[DecisionRule] = []
    kinds = kinds or RULE_KINDS
    if "top-k" in kinds:
        for k in (1, 2, 3):
            if k <= scores.shape[1]:
                candidates.append(DecisionRule("top-k", k=k, abstain=False))
    if "threshold" in kinds:
        for abstain in (True, False):
            candidates.extend(DecisionRule("threshold", threshold=float(t), abstain=abstain) for t in grid)
    best = max(candidates, key=lambda r: fast_micro_f1(y_true, r.apply(scores)), default=None)
    if "per-label" in kinds:
        per = _tune_per_label(scores, y_true, grid, precision_target, start=best)
        if best is None or fast_micro_f1(y_true, per.apply(scores)) >= fast_micro_f1(y_true, best.apply(scores)):
            best = per
        if precision_target is None:  # each label's exact F1-best threshold can beat the grid search on micro too
            exact = DecisionRule(
                "per-label", thresholds=[best_label_f1(scores[:, j], y_true[:, j])[1] for j in range(scores.shape[1])]
            )
            if fast_micro_f1(y_true, exact.apply(scores)) > fast_micro_f1(y_true, best.apply(scores)) + 1e-12:
                best = exact
    assert best is not None
    return best


def _tune_per_label(
    scores: NDArray,
    y_true: NDArray,
    grid: NDArray,
    precision_target: float | None,
    start: DecisionRule | None,
) -> DecisionRule:
    """Coordinate ascent on micro F1, one label at a time, two passes."""
    c = scores.shape[1]
    base = start.threshold if start is not None and start.kind == "threshold" else 0.5
    thresholds = np.full(c, base, dtype=float)
    if precision_target is not None:
        for j in range(c):
            ok = [t for t in grid if _precision(y_true[:, j], scores[:, j] >= t) >= precision_target]
            thresholds[j] = min(ok) if ok else float(grid.max()) + 1e-9
        return DecisionRule("per-label", thresholds=thresholds.tolist(), abstain=True)
    _ascend_micro(scores, y_true, grid, thresholds, list(range(c)))
    return DecisionRule("per-label", thresholds=thresholds.tolist(), abstain=True)


def _ascend_micro(scores: NDArray, y_true: NDArray, grid: NDArray, thresholds: NDArray, free: list[int]) -> None:
    """Coordinate ascent on micro F1 over the thresholds of the ``free`` labels (two passes, in place)."""
    pred = scores >= thresholds
    for _ in range(2):
        for j in free:
            best_t, best_f = thresholds[j], -1.0
            for t in grid:
                pred[:, j] = scores[:, j] >= t
                f = fast_micro_f1(y_true, pred)
                if f > best_f + 1e-12:
                    best_t, best_f = float(t), f
            thresholds[j] = best_t
            pred[:, j] = scores[:, j] >= best_t


def _precision(y: NDArray, kept: NDArray) -> float:
    """Precision of the ``kept`` rows against 0/1 ``y`` (0 when nothing is kept), as scikit-learn's
    ``precision_score(..., zero_division=0)`` for one label; numpy only, so importing the decision
    code does not import scikit-learn (a second of a cold ``fewtag triage``)."""
    n = int(np.count_nonzero(kept))
    return float(np.count_nonzero(np.asarray(y)[np.asarray(kept, dtype=bool)])) / n if n else 0.0


def _precision_floor(scores: NDArray, y: NDArray, grid: NDArray, target: float) -> float:
    """The lowest grid threshold whose precision on (scores, y) reaches ``target``; above all if none."""
    for t in np.sort(grid):
        kept = scores >= t
        if kept.any() and _precision(y, kept) >= target:
            return float(t)
    return float(scores.max(initial=1.0)) + 1e-9


def _grid(scores: NDArray) -> NDArray:
    lo, hi = float(scores.min(initial=0.0)), float(scores.max(initial=1.0))
    grid = np.unique(np.concatenate([_GRID, np.quantile(scores, np.linspace(0, 1, 41))])) if scores.size else _GRID
    return grid[(grid >= lo) & (grid <= hi)] if hi > lo else np.array([lo])


def tune_decision(
    scores: NDArray[np.float64],
    y_true: NDArray[np.int_],
    *,
    multi_label: bool,
    classes: Sequence[str],
    spec: DecisionSpec | Mapping[str, Any] | None = None,
) -> DecisionRule:
    """The decision rule that best serves ``spec`` on tuning scores (validation or out-of-fold).

    Parameters
    ----------
    scores : ndarray of shape (n_texts, n_classes)
    y_true : ndarray of shape (n_texts, n_classes), 0/1
    multi_label : bool
    classes : sequence of str, length n_classes
        Names for per-label precision targets.
    spec : DecisionSpec or dict, optional
        Default: ``DecisionSpec()`` (micro F1, abstain for multi-label data).

    Returns
    -------
    DecisionRule

    Examples
    --------
    >>> s = np.array([[0.9, 0.2], [0.6, 0.7], [0.1, 0.8]]); y = np.array([[1, 0], [0, 1], [0, 1]])
    >>> tune_decision(s, y, multi_label=False, classes=["a", "b"]).kind
    'top-k'
    """
    spec = DecisionSpec.coerce(spec)
    scores = np.asarray(scores, dtype=np.float64)
    y_true = np.asarray(y_true, dtype=int)
    targets = spec.targets(classes)
    targeted = [t is not None for t in targets]
    grid = _grid(scores)
    if spec.top_k is not None:
        k = min(spec.top_k, scores.shape[1])
        if not spec.abstain:
            return DecisionRule("top-k", k=k, abstain=False)
        best = max(
            (DecisionRule("top-k", k=k, threshold=float(t), abstain=True) for t in grid),
            key=lambda r: objective_value(y_true, r.apply(scores), spec.objective),
        )
        return best
    if not multi_label:
        if any(targeted):
            top = DecisionRule("top-k", k=1, abstain=False).apply(scores)
            floors = []
            for j, t in enumerate(targets):  # a label's floor: precision among the texts it is top-1 for
                won = top[:, j]
                floors.append(
                    float(scores.min(initial=0.0))
                    if t is None
                    else _precision_floor(scores[won, j], y_true[won, j], grid, t)
                )
            return DecisionRule("top-k", k=1, threshold=float(scores.min(initial=0.0)), thresholds=floors, abstain=True)
        if spec.abstain:
            return max(
                (DecisionRule("top-k", k=1, threshold=float(t), abstain=True) for t in grid),
                key=lambda r: objective_value(y_true, r.apply(scores), spec.objective),
            )
        return DecisionRule("top-k", k=1, abstain=False)
    abstain = True if spec.abstain is None else spec.abstain
    if not any(targeted):
        if spec.objective == "macro":
            rule = tune_rule(scores, y_true, multi_label=True, objective="macro")
        else:
            rule = tune_rule(scores, y_true, multi_label=True, kinds=spec.kinds)
            if spec.abstain is not None and rule.abstain != spec.abstain:
                kinds = tuple(k for k in (spec.kinds or RULE_KINDS) if k != "top-k") or ("threshold",)
                rule = _best_with_abstain(scores, y_true, grid, kinds, spec.abstain)
        rule.abstain = abstain if rule.kind != "top-k" else rule.abstain
        return rule
    thresholds = np.array(
        [_precision_floor(scores[:, j], y_true[:, j], grid, t) if t is not None else 0.5 for j, t in enumerate(targets)]
    )
    free = [j for j, t in enumerate(targeted) if not t]
    if spec.objective == "macro":
        for j in free:
            thresholds[j] = best_label_f1(scores[:, j], y_true[:, j])[1]
    elif free:
        _ascend_micro(scores, y_true, grid, thresholds, free)
    return DecisionRule("per-label", thresholds=thresholds.tolist(), abstain=abstain)


def _best_with_abstain(
    scores: NDArray, y_true: NDArray, grid: NDArray, kinds: tuple[str, ...], abstain: bool
) -> DecisionRule:
    candidates = [DecisionRule("threshold", threshold=float(t), abstain=abstain) for t in grid]
    best = max(candidates, key=lambda r: fast_micro_f1(y_true, r.apply(scores)))
    if "per-label" in kinds:
        per = _tune_per_label(scores, y_true, grid, None, start=best)
        per.abstain = abstain
        if fast_micro_f1(y_true, per.apply(scores)) >= fast_micro_f1(y_true, best.apply(scores)):
            best = per
    return best
