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
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray
from sklearn.metrics import precision_score

from fewtag.errors import ConfigError

__all__ = ["DecisionRule", "tune_rule", "RULE_KINDS", "OBJECTIVES", "check_objective", "best_label_f1"]

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
        One threshold per class for ``per-label``.
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
            raise ConfigError(
                f"decision rule must be one of {', '.join(RULE_KINDS)}; got {self.kind!r}"
            )
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
            return out
        if self.kind == "threshold":
            out = scores >= self.threshold
        else:
            if len(self.thresholds) != c:
                raise ConfigError(
                    f"per-label rule has {len(self.thresholds)} thresholds for {c} classes"
                )
            out = scores >= np.asarray(self.thresholds)[None, :]
        if not self.abstain and n:
            out[np.arange(n), scores.argmax(axis=1)] = True
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DecisionRule":
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


def _micro(y_true: NDArray, y_pred: NDArray) -> float:
    """Micro F1 in plain numpy (called thousands of times while tuning)."""
    tp = np.count_nonzero(y_pred & (y_true == 1))
    denom = np.count_nonzero(y_pred) + np.count_nonzero(y_true)
    return 2.0 * tp / denom if denom else 0.0


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
    best = max(candidates, key=lambda r: _micro(y_true, r.apply(scores)), default=None)
    if "per-label" in kinds:
        per = _tune_per_label(scores, y_true, grid, precision_target, start=best)
        if best is None or _micro(y_true, per.apply(scores)) >= _micro(y_true, best.apply(scores)):
            best = per
    assert best is not None
    return best


def _tune_per_label(
    scores: NDArray, y_true: NDArray, grid: NDArray, precision_target: float | None,
    start: DecisionRule | None,
) -> DecisionRule:
    """Coordinate ascent on micro F1, one label at a time, two passes."""
    c = scores.shape[1]
    base = start.threshold if start is not None and start.kind == "threshold" else 0.5
    thresholds = np.full(c, base, dtype=float)
    if precision_target is not None:
        for j in range(c):
            ok = [t for t in grid
                  if precision_score(y_true[:, j], scores[:, j] >= t, zero_division=0) >= precision_target]
            thresholds[j] = min(ok) if ok else float(grid.max()) + 1e-9
        return DecisionRule("per-label", thresholds=thresholds.tolist(), abstain=True)
    pred = scores >= thresholds
    for _ in range(2):
        for j in range(c):
            best_t, best_f = thresholds[j], -1.0
            for t in grid:
                pred[:, j] = scores[:, j] >= t
                f = _micro(y_true, pred)
                if f > best_f + 1e-12:
                    best_t, best_f = float(t), f
            thresholds[j] = best_t
            pred[:, j] = scores[:, j] >= best_t
    return DecisionRule("per-label", thresholds=thresholds.tolist(), abstain=True)
