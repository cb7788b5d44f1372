"""Calibrated scores: per-label calibration fitted on out-of-fold (or validation) scores.

After calibration a score of 0.9 means "right about 9 times in 10", so a threshold of
0.9 gives about 90% precision. Multi-label models get one calibrator per label, chosen
per label by cross-validated log loss on the out-of-fold scores among

* ``identity`` (the score as it is),
* ``platt`` (a logistic regression on the score's logit: ``sigmoid(a * logit(s) + b)``),
* ``isotonic`` (a monotone step function, for labels with enough positives).

Single-label models get temperature scaling (one temperature for the softmax, found by
the log loss), which keeps the ranking and keeps the scores summing to one.

Everything is saved as plain numbers and arrays in ``fewtag.json`` (no pickle). Besides the
calibrators it keeps, per label, the precision of the out-of-fold scores at each threshold
on a 0.01 grid, cross-fitted (each row calibrated by calibrators fitted without it), so a
precision target can be turned into a threshold (:func:`threshold_for_precision`).

Expected calibration error (:func:`expected_calibration_error`): 10 equal-width bins; for
multi-label data over every (text, label) score, for single-label data over the top label's
confidence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError

__all__ = [
    "Calibration",
    "LabelCalibrator",
    "fit_calibration",
    "cross_fitted",
    "expected_calibration_error",
    "reliability_table",
    "threshold_for_precision",
    "CALIBRATORS",
    "MIN_ROWS",
    "format_reliability",
]

CALIBRATORS = ("identity", "platt", "isotonic")
_EPS = 1e-6
_GRID = np.round(np.linspace(0.0, 1.0, 101), 2)
#: isotonic regression is only tried for a label with at least this many positives and negatives
MIN_ISOTONIC = 20
#: fewer held-out rows than this: no calibration (too few to fit one without noise)
MIN_ROWS = 30


def _logit(s: NDArray) -> NDArray[np.float64]:
    s = np.clip(np.asarray(s, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(s) - np.log1p(-s)


def _sigmoid(z: NDArray) -> NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500, 500)))


@dataclass
class LabelCalibrator:
    """One label's map from raw score to calibrated score.

    ``kind`` is ``identity``, ``platt`` (``a``, ``b``) or ``isotonic`` (knots ``x`` -> ``y``,
    linear in between, flat outside).

    >>> LabelCalibrator("platt", a=1.0, b=0.0).apply(np.array([0.25])).round(2).tolist()
    [0.25]
    """

    kind: str = "identity"
    a: float = 1.0
    b: float = 0.0
    x: list[float] = field(default_factory=list)
    y: list[float] = field(default_factory=list)

    def apply(self, s: NDArray) -> NDArray[np.float64]:
        s = np.asarray(s, dtype=np.float64)
        if self.kind == "platt":
            return _sigmoid(self.a * _logit(s) + self.b)
        if self.kind == "isotonic":
            return np.interp(s, np.asarray(self.x), np.asarray(self.y))
        return s

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "platt":
            return {"kind": "platt", "a": self.a, "b": self.b}
        if self.kind == "isotonic":
            return {"kind": "isotonic", "x": list(self.x), "y": list(self.y)}
        return {"kind": "identity"}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelCalibrator:
        kind = data.get("kind", "identity")
        if kind not in CALIBRATORS:
            raise ConfigError(f"unknown calibrator {kind!r}; known: {', '.join(CALIBRATORS)}")
        return cls(
            kind, float(data.get("a", 1.0)), float(data.get("b", 0.0)), list(data.get("x", [])), list(data.get("y", []))
        )


def _fit_one(kind: str, s: NDArray, t: NDArray) -> LabelCalibrator:
    if kind == "identity" or t.min() == t.max():
        return LabelCalibrator("identity")
    if kind == "platt":
        a, b = _platt(_logit(s), t.astype(np.float64))
        return LabelCalibrator("platt", a=a, b=b)
    x, y = _isotonic(s, t.astype(np.float64))
    return LabelCalibrator("isotonic", x=x, y=y)


def _isotonic(s: NDArray, t: NDArray) -> tuple[list[float], list[float]]:
    """Knots of the isotonic (pool-adjacent-violators) fit of ``t`` on ``s``: both ends of each flat step."""
    from sklearn.isotonic import isotonic_regression

    xs, inverse = np.unique(s, return_inverse=True)
    sums = np.bincount(inverse, weights=t)
    counts = np.bincount(inverse).astype(np.float64)
    fitted = isotonic_regression(sums / counts, sample_weight=counts, y_min=0.0, y_max=1.0)
    keep = np.ones(len(xs), dtype=bool)
    if len(xs) > 2:  # inside a flat step only its first and last knot matter for interpolation
        same_prev = np.r_[False, fitted[1:] == fitted[:-1]]
        same_next = np.r_[fitted[:-1] == fitted[1:], False]
        keep = ~(same_prev & same_next)
    return [float(v) for v in xs[keep]], [float(v) for v in fitted[keep]]


def _platt(x: NDArray, t: NDArray, l2: float = 1e-2, steps: int = 50) -> tuple[float, float]:
    """``(a, b)`` minimising the log loss of ``sigmoid(a * x + b)`` (plus ``l2 * a**2 / 2``), by Newton's method."""
    w = np.array([1.0, 0.0])
    feats = np.column_stack([x, np.ones_like(x)])
    for _ in range(steps):
        p = _sigmoid(feats @ w)
        grad = feats.T @ (p - t) / len(t) + np.array([l2 * w[0], 0.0])
        hess = (feats * (p * (1 - p))[:, None]).T @ feats / len(t) + np.diag([l2, 1e-9])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(w[0]), float(w[1])


def _log_loss(p: NDArray, t: NDArray) -> float:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return float(-np.mean(t * np.log(p) + (1 - t) * np.log1p(-p)))


def _kfold(n: int, k: int, seed: int) -> list[NDArray[np.int64]]:
    order = np.random.RandomState(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, k) if len(part)]


def _choose(s: NDArray, t: NDArray, kinds: tuple[str, ...], seed: int) -> str:
    """The calibrator kind with the lowest cross-validated log loss on ``(s, t)``."""
    pos = int(t.sum())
    allowed = [k for k in kinds if k != "isotonic" or min(pos, len(t) - pos) >= MIN_ISOTONIC]
    if len(allowed) == 1 or pos == 0 or pos == len(t):
        return allowed[0] if allowed else "identity"
    folds = _kfold(len(t), 5, seed)
    best, best_loss = "identity", np.inf
    for kind in allowed:
        pred = np.empty(len(t))
        for held in folds:
            rest = np.setdiff1d(np.arange(len(t)), held)
            pred[held] = _fit_one(kind, s[rest], t[rest]).apply(s[held])
        loss = _log_loss(pred, t)
        if loss < best_loss - 1e-9:
            best, best_loss = kind, loss
    return best


def _fit_temperature(scores: NDArray, y: NDArray) -> float:
    """The softmax temperature with the lowest log loss of the true class (golden-section on log T)."""
    logp = np.log(np.clip(scores, 1e-12, 1.0))
    truth = y.argmax(axis=1)

    def loss(log_t: float) -> float:
        z = logp / np.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=1))
        return float(np.mean(lse - z[np.arange(len(z)), truth]))

    lo, hi = np.log(0.05), np.log(20.0)
    g = (np.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    for _ in range(60):
        if loss(a) < loss(b):
            hi = b
        else:
            lo = a
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    return float(np.exp((lo + hi) / 2))


def _apply_temperature(scores: NDArray, temperature: float) -> NDArray[np.float64]:
    z = np.log(np.clip(scores, 1e-12, 1.0)) / temperature
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Calibration:
    """Calibrators for every label of a model, and what they were fitted on.

    Attributes
    ----------
    kind : {"per-label", "temperature"}
    labels : list of LabelCalibrator
        One per class, in ``classes_`` order (``per-label``).
    temperature : float
        The softmax temperature (``temperature``).
    precision : list of list of float
        Per label, the cross-fitted calibrated precision at the thresholds 0.00, 0.01, ..., 1.00
        (``nan`` where no row reaches the threshold); ``support`` holds the row counts.
    ece : dict
        ``before`` / ``after`` expected calibration error on the scores it was fitted on
        (after: cross-fitted), and ``fitted_on`` (``out-of-fold`` or ``validation``) and ``rows``.
    """

    kind: str = "per-label"
    labels: list[LabelCalibrator] = field(default_factory=list)
    temperature: float = 1.0
    precision: list[list[float]] = field(default_factory=list)
    support: list[list[int]] = field(default_factory=list)
    ece: dict[str, Any] = field(default_factory=dict)

    def apply(self, scores: NDArray) -> NDArray[np.float64]:
        """Calibrated scores of the same shape ``(n, n_classes)``."""
        scores = np.asarray(scores, dtype=np.float64)
        if self.kind == "temperature":
            return _apply_temperature(scores, self.temperature)
        if len(self.labels) != scores.shape[1]:
            raise ConfigError(f"calibration has {len(self.labels)} labels but the scores have {scores.shape[1]}")
        return np.column_stack([cal.apply(scores[:, j]) for j, cal in enumerate(self.labels)])

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "labels": [c.to_dict() for c in self.labels],
            "temperature": round(self.temperature, 6),
            "grid_step": 0.01,
            "precision": [[None if np.isnan(v) else round(float(v), 4) for v in row] for row in self.precision],
            "support": self.support,
            "ece": self.ece,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        kind = data.get("kind", "per-label")
        if kind not in ("per-label", "temperature"):
            raise ConfigError(f"unknown calibration kind {kind!r}; known: per-label, temperature")
        return cls(
            kind=kind,
            labels=[LabelCalibrator.from_dict(c) for c in data.get("labels", [])],
            temperature=float(data.get("temperature", 1.0)),
            precision=[[np.nan if v is None else float(v) for v in row] for row in data.get("precision", [])],
            support=[[int(v) for v in row] for row in data.get("support", [])],
            ece=dict(data.get("ece", {})),
        )


def _fit_plain(scores: NDArray, y: NDArray, multi_label: bool, kinds: tuple[str, ...], seed: int) -> Calibration:
    if not multi_label:
        return Calibration(kind="temperature", temperature=_fit_temperature(scores, y))
    cals = [_fit_one(_choose(scores[:, j], y[:, j], kinds, seed), scores[:, j], y[:, j]) for j in range(y.shape[1])]
    return Calibration(kind="per-label", labels=cals)


def cross_fitted(
    scores: NDArray,
    y: NDArray,
    *,
    multi_label: bool,
    kinds: tuple[str, ...] = CALIBRATORS,
    folds: int = 5,
    seed: int = 0,
) -> NDArray[np.float64]:
    """Each row calibrated by calibrators fitted on the other folds' rows: an honest "after".

    Parameters
    ----------
    scores : ndarray of shape (n, n_classes)
    y : ndarray of shape (n, n_classes), 0/1
    """
    scores, y = np.asarray(scores, dtype=np.float64), np.asarray(y, dtype=np.int64)
    out = np.empty_like(scores)
    parts = _kfold(len(y), min(folds, len(y)), seed)
    for held in parts:
        rest = np.setdiff1d(np.arange(len(y)), held)
        out[held] = _fit_plain(scores[rest], y[rest], multi_label, kinds, seed).apply(scores[held])
    return out


def fit_calibration(
    scores: NDArray,
    y: NDArray,
    *,
    multi_label: bool,
    kinds: tuple[str, ...] = CALIBRATORS,
    fitted_on: str = "out-of-fold",
    seed: int = 0,
) -> Calibration:
    """Fit calibrators on held-out scores (out-of-fold or validation, never test).

    Parameters
    ----------
    scores : ndarray of shape (n, n_classes)
        Scores the model did not train on.
    y : ndarray of shape (n, n_classes), 0/1
    multi_label : bool
        Per-label calibrators (True) or temperature scaling (False).
    kinds : tuple of str
        Calibrator kinds to choose from per label (:data:`CALIBRATORS`).

    Returns
    -------
    Calibration

    Examples
    --------
    >>> rng = np.random.RandomState(0)
    >>> y = (rng.rand(400, 2) < 0.3).astype(int)
    >>> s = np.clip(0.5 * y + 0.3 + 0.1 * rng.randn(400, 2), 0, 1)   # over-confident, shifted
    >>> cal = fit_calibration(s, y, multi_label=True)
    >>> cal.ece["after"] < cal.ece["before"]
    True
    """
    scores, y = np.asarray(scores, dtype=np.float64), np.asarray(y, dtype=np.int64)
    bad = [k for k in kinds if k not in CALIBRATORS]
    if bad or not kinds:
        raise ConfigError(f"calibrators must be among {', '.join(CALIBRATORS)}; got {list(kinds)}")
    if scores.shape != y.shape or not len(y):
        raise ConfigError(f"calibration needs scores and truth of one shape; got {scores.shape} and {y.shape}")
    cal = _fit_plain(scores, y, multi_label, tuple(kinds), seed)
    honest = cross_fitted(scores, y, multi_label=multi_label, kinds=tuple(kinds), seed=seed) if len(y) >= 10 else scores
    cal.precision, cal.support = _precision_curves(honest, y)
    cal.ece = {
        "before": round(expected_calibration_error(scores, y, multi_label=multi_label), 4),
        "after": round(expected_calibration_error(honest, y, multi_label=multi_label), 4),
        "fitted_on": fitted_on,
        "rows": int(len(y)),
        "calibrators": _counts(cal),
        "bins_before": _bins(scores, y, multi_label),
        "bins_after": _bins(honest, y, multi_label),
    }
    return cal


def _bins(scores: NDArray, y: NDArray, multi_label: bool) -> list[list[float | None]]:
    """``[count, mean score, observed]`` per reliability bin, rounded, for ``fewtag.json``."""
    return [
        [
            r["count"],
            None if not r["count"] else round(r["mean_score"], 4),
            None if not r["count"] else round(r["observed"], 4),
        ]
        for r in reliability_table(scores, y, multi_label=multi_label)
    ]


def _counts(cal: Calibration) -> dict[str, int]:
    if cal.kind == "temperature":
        return {"temperature": 1}
    out: dict[str, int] = {}
    for c in cal.labels:
        out[c.kind] = out.get(c.kind, 0) + 1
    return out


def _precision_curves(scores: NDArray, y: NDArray) -> tuple[list[list[float]], list[list[int]]]:
    prec, sup = [], []
    for j in range(y.shape[1]):
        s, t = scores[:, j], y[:, j]
        row_p, row_s = [], []
        for thr in _GRID:
            keep = s >= thr - 1e-12
            n = int(keep.sum())
            row_s.append(n)
            row_p.append(float(t[keep].mean()) if n else float("nan"))
        prec.append(row_p)
        sup.append(row_s)
    return prec, sup


def threshold_for_precision(cal: Calibration, j: int, target: float, *, min_support: int = 5) -> float | None:
    """The lowest grid threshold whose cross-fitted precision for label ``j`` reaches ``target``.

    ``None`` when no threshold with at least ``min_support`` rows reaches it (then the label is
    never added: better no label than a wrong one).
    """
    if j >= len(cal.precision):
        return None
    for thr, p, n in zip(_GRID, cal.precision[j], cal.support[j]):
        if n >= min_support and not np.isnan(p) and p >= target - 1e-9:
            return float(thr)
    return None


def _binary_view(scores: NDArray, y: NDArray, multi_label: bool) -> tuple[NDArray, NDArray]:
    scores, y = np.asarray(scores, dtype=np.float64), np.asarray(y)
    if multi_label:
        return scores.ravel(), y.ravel().astype(np.float64)
    top = scores.argmax(axis=1)
    return scores[np.arange(len(scores)), top], y[np.arange(len(y)), top].astype(np.float64)


def reliability_table(scores: NDArray, y: NDArray, *, multi_label: bool, bins: int = 10) -> list[dict[str, Any]]:
    """Per equal-width bin: ``lo``, ``hi``, ``count``, ``mean_score``, ``observed`` (the share that was right).

    >>> reliability_table(np.array([[0.95, 0.05]]), np.array([[1, 0]]), multi_label=True)[9]["count"]
    1
    """
    conf, hit = _binary_view(scores, y, multi_label)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(conf, edges[1:-1], right=False), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = which == b
        n = int(m.sum())
        rows.append(
            {
                "lo": float(edges[b]),
                "hi": float(edges[b + 1]),
                "count": n,
                "mean_score": float(conf[m].mean()) if n else float("nan"),
                "observed": float(hit[m].mean()) if n else float("nan"),
            }
        )
    return rows


def expected_calibration_error(scores: NDArray, y: NDArray, *, multi_label: bool, bins: int = 10) -> float:
    """Expected calibration error: the count-weighted mean of ``|mean score - observed|`` over bins.

    >>> expected_calibration_error(np.array([[0.9], [0.9]]), np.array([[1], [0]]), multi_label=True)
    0.4
    """
    rows = reliability_table(scores, y, multi_label=multi_label, bins=bins)
    total = sum(r["count"] for r in rows)
    if not total:
        return 0.0
    return round(float(sum(r["count"] * abs(r["mean_score"] - r["observed"]) for r in rows if r["count"]) / total), 6)


def format_reliability(ece: Mapping[str, Any]) -> list[str]:
    """Lines of the reliability table ``fewtag train`` prints, from a calibration's ``ece`` record.

    >>> format_reliability({"before": 0.1, "after": 0.02, "fitted_on": "validation", "rows": 40,
    ...                     "calibrators": {"platt": 2}, "bins_before": [[0, None, None]] * 10,
    ...                     "bins_after": [[0, None, None]] * 10})[0]
    'calibration (platt x2, fitted on validation scores of 40 rows): ECE 0.100 -> 0.020 (after: cross-fitted)'
    """
    kinds = ", ".join(f"{k} x{n}" for k, n in sorted(ece.get("calibrators", {}).items()))
    lines = [
        f"calibration ({kinds}, fitted on {ece.get('fitted_on')} scores of {ece.get('rows')} rows): "
        f"ECE {ece['before']:.3f} -> {ece['after']:.3f} (after: cross-fitted)"
    ]
    before, after = ece.get("bins_before") or [], ece.get("bins_after") or []
    if before and after:
        lines.append(
            f"{'score bin':<10} {'rows':>6} {'mean before':>11} {'seen':>6} {'rows':>6} {'mean after':>10} {'seen':>6}"
        )

        def cell(v: Any, width: int) -> str:
            return f"{v:>{width}.3f}" if isinstance(v, (int, float)) else f"{'-':>{width}}"

        for b, (rb, ra) in enumerate(zip(before, after)):
            lo = b / len(before)
            lines.append(
                f"{lo:.1f}-{lo + 1 / len(before):.1f}{'':<3} {rb[0]:>6} {cell(rb[1], 11)} {cell(rb[2], 6)} "
                f"{ra[0]:>6} {cell(ra[1], 10)} {cell(ra[2], 6)}"
            )
    return lines
