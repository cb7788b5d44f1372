"""Decision rules: turn a score matrix into label sets.

A rule is one of

* ``top-k``: the ``k`` best labels (single-label data uses ``k=1``);
* ``threshold``: every label whose score reaches one global threshold;
* ``per-label``: one threshold per label, tuned on validation, with an
  optional per-label precision target.

Tuning maximises micro F1 by default (``objective="micro"``). With
``objective="macro"`` each label gets the threshold that maximises its own
F1: macro F1 is the mean of per-label F1s and each depends only on its own
threshold, so this is the macro-F1-best threshold rule. It lifts rare labels
at some cost in micro F1.

With ``abstain=True`` a text may get no label at all; otherwise the best
label is always kept. Rules are saved with the model as plain JSON.

What to tune *for* is one :class:`DecisionSpec` (objective, per-label
precision targets, rule kinds, a fixed top-k, abstain), the same for every
method, for ``fewtag train --objective macro --precision-target bug=0.9``, bench
configs and ``fewtag.json``; :func:`tune_decision` turns scores, truth and a
spec into a rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import precision_score

from fewtag.errors import ConfigError
from fewtag.metrics import fast_macro_f1, fast_micro_f1

__all__ = [
    "DecisionRule",
    "DecisionSpec",
    "tune_rule",
    "tune_decision",
    "objective_value",
    "RULE_KINDS",
    "OBJECTIVES",
    "check_objective",
    "best_label_f1",
]

RULE_KINDS = ("top-k", "threshold", "per-label")
OBJECTIVES = ("micro", "macro")
Kind = Literal["top-k", "threshold", "per-label"]
_GRID = np.round(np.arange(0.02, 1.0, 0.02), 2)


@dataclass
class DecisionRule:
    """How scores become labels.

    Parameters
    ----------
    kind : {"top-k", "threshold", "per-label"}
    k : int
        Labels kept by ``top-k``.
    threshold : float
        Global threshold for ``threshold``; also the abstain floor for ``top-k``.
    thresholds : list of float
        One threshold per class for ``per-label``; for ``top-k``, optional
        per-class floors (a kept label must also reach its floor).
    abstain : bool
        Allow an empty label set when nothing reaches its threshold.

    Examples
    --------
    >>> rule = DecisionRule("threshold", threshold=0.5, abstain=True)
    >>> rule.apply(np.array([[0.9, 0.6, 0.1], [0.2, 0.1, 0.3]])).astype(int).tolist()
    [[1, 1, 0], [0, 0, 0]]
    """

    kind: Kind = "threshold"
    k: int = 1
    threshold: float = 0.5
    thresholds: list[float] = field(default_factory=list)
    abstain: bool = True

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ConfigError(f"decision rule must be one of {', '.join(RULE_KINDS)}; got {self.kind!r}")
        if self.k < 1:
            raise ConfigError(f"top-k needs k >= 1; got {self.k}")

    def apply(self, scores: NDArray[np.float64]) -> NDArray[np.bool_]:
        """Return a boolean matrix of shape ``(n_texts, n_classes)``."""
        scores = np.asarray(scores, dtype=np.float64)
        n, c = scores.shape
        if self.kind == "top-k":
            k = min(self.k, c)
            top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            out = np.zeros_like(scores, dtype=bool)
            np.put_along_axis(out, top, True, axis=1)
            if self.abstain:
                out &= scores >= self.threshold
                if self.thresholds:
                    out &= scores >= self._per_class(c)[None, :]
            return out
        if self.kind == "threshold":
            out = scores >= self.threshold
        else:
            out = scores >= self._per_class(c)[None, :]
        if not self.abstain and n:
            out[np.arange(n), scores.argmax(axis=1)] = True
        return out

    def _per_class(self, c: int) -> NDArray[np.float64]:
        if len(self.thresholds) != c:
            raise ConfigError(f"{self.kind} rule has {len(self.thresholds)} thresholds for {c} classes")
        return np.asarray(self.thresholds, dtype=np.float64)

    def check(self, n_classes: int) -> DecisionRule:
        """Raise ``ConfigError`` unless the rule is usable for ``n_classes`` labels (finite thresholds)."""
        values = [self.threshold, *self.thresholds]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            raise ConfigError(f"decision rule thresholds must be finite numbers; got {values}")
        if self.kind == "per-label" or self.thresholds:
            self._per_class(n_classes)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionRule:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class DecisionSpec:
    """What a decision rule is tuned for; one spec for every method.

    Parameters
    ----------
    objective : {"micro", "macro"}
        Maximise micro F1, or each label's own F1 (macro F1).
    precision_target : float or dict of str to float, optional
        For every label (a float) or for the named labels (a dict): the lowest
        threshold whose tuning precision reaches the target, instead of the
        F1-best one. Works for single-label data too (then a text may get no
        label when its best label misses its floor).
    kinds : tuple of str, optional
        Rule kinds to try for a micro objective (default: all that suit the data).
    top_k : int, optional
        Always keep the ``top_k`` best labels (with ``abstain``, only those over a
        tuned floor).
    abstain : bool, optional
        Whether a text may get no label. Default: yes for multi-label data, no for
        single-label data (yes where a precision target applies).

    Examples
    --------
    >>> DecisionSpec.from_dict({"objective": "macro", "precision_target": {"bug": 0.9}}).targets(["bug", "docs"])
    [0.9, None]
    """

    objective: str = "micro"
    precision_target: float | dict[str, float] | None = None
    kinds: tuple[str, ...] | None = None
    top_k: int | None = None
    abstain: bool | None = None

    def __post_init__(self) -> None:
        check_objective(self.objective)
        targets = self.precision_target
        values = list(targets.values()) if isinstance(targets, Mapping) else [] if targets is None else [targets]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise ConfigError(f"precision targets must be numbers in (0, 1]; got {v!r}")
        if isinstance(targets, Mapping):
            object.__setattr__(self, "precision_target", {str(k): float(v) for k, v in targets.items()})
        elif targets is not None and not isinstance(targets, (int, float)):
            raise ConfigError(f"precision_target must be a number or a table label -> number; got {targets!r}")
        if self.kinds is not None:
            kinds = (self.kinds,) if isinstance(self.kinds, str) else tuple(self.kinds)
            bad = [k for k in kinds if k not in RULE_KINDS]
            if bad or not kinds:
                raise ConfigError(f"decision kinds must be among {', '.join(RULE_KINDS)}; got {list(kinds)}")
            object.__setattr__(self, "kinds", kinds)
        if self.top_k is not None and (
            isinstance(self.top_k, bool) or not isinstance(self.top_k, int) or self.top_k < 1
        ):
            raise ConfigError(f"top_k must be an integer >= 1; got {self.top_k!r}")
        if self.abstain is not None and not isinstance(self.abstain, bool):
            raise ConfigError(f"abstain must be true or false; got {self.abstain!r}")

    def targets(self, classes: Sequence[str]) -> list[float | None]:
        """Precision target per class (``None`` where there is none).

        Raises
        ------
        ConfigError
            A target names a label that is not in ``classes``.
        """
        t = self.precision_target
        if t is None:
            return [None] * len(classes)
        if isinstance(t, dict):
            unknown = sorted(set(t) - set(classes))
            if unknown:
                raise ConfigError(
                    f"precision target for unknown label(s) {', '.join(unknown)}; labels: {', '.join(classes)}"
                )
            return [t.get(c) for c in classes]
        return [float(t)] * len(classes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.kinds is not None:
            d["kinds"] = list(self.kinds)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DecisionSpec:
        """Build from a config table; unknown keys are a ``ConfigError`` listing the valid ones."""
        data = dict(data or {})
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise ConfigError(f"unknown decision key(s) {', '.join(unknown)}; valid keys: {', '.join(names)}")
        if isinstance(data.get("kinds"), list):
            data["kinds"] = tuple(data["kinds"])
        return cls(**data)

    @classmethod
    def coerce(cls, spec: DecisionSpec | Mapping[str, Any] | None) -> DecisionSpec:
        return spec if isinstance(spec, DecisionSpec) else cls.from_dict(spec)


def objective_value(y_true: NDArray, y_pred: NDArray, objective: str = "micro") -> float:
    """Micro or macro F1 of boolean predictions: the quantity a spec's tuning maximises.

    >>> objective_value(np.array([[1, 0], [0, 1]]), np.array([[True, False], [True, False]]), "macro")
    0.3333333333333333
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, dtype=bool)
    return fast_macro_f1(y_true, y_pred) if check_objective(objective) == "macro" else fast_micro_f1(y_true, y_pred)


def check_objective(objective: str) -> str:
    """Return ``objective`` if it is one of :data:`OBJECTIVES`, else raise ``ConfigError``."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"tuning objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    return objective


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
            ok = [
                t for t in grid if precision_score(y_true[:, j], scores[:, j] >= t, zero_division=0) >= precision_target
            ]
            thresholds[j] = min(ok) if ok else float(grid.max()) + 1e-9
        return DecisionRule("per-label", thresholds=thresholds.tolist(), abstain=True)
    pred = scores >= thresholds
    for _ in range(2):
        for j in range(c):
            best_t, best_f = thresholds[j], -1.0
            for t in grid:
                pred[:, j] = scores[:, j] >= t
                f = fast_micro_f1(y_true, pred)
                if f > best_f + 1e-12:
                    best_t, best_f = float(t), f
            thresholds[j] = best_t
            pred[:, j] = scores[:, j] >= best_t
    return DecisionRule("per-label", thresholds=thresholds.tolist(), abstain=True)


def _precision_floor(scores: NDArray, y: NDArray, grid: NDArray, target: float) -> float:
    """The lowest grid threshold whose precision on (scores, y) reaches ``target``; above all if none."""
    for t in np.sort(grid):
        kept = scores >= t
        if kept.any() and precision_score(y, kept, zero_division=0) >= target:
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
