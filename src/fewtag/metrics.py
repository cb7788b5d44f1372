"""Scores of predicted label sets against the truth, on indicator matrices.

The one public home of fewtag's metrics: methods, ``train``, the bench harness
and the scripts all import them from here (``fewtag.eval.metrics`` re-exports
them for older code). Importing this module needs only numpy.

Every function takes 0/1 (or boolean) matrices of shape ``(n_texts, n_classes)``
so single-label and multi-label data are scored by the same code. For
single-label data with exactly one prediction per text, micro F1 equals
accuracy, as in scikit-learn. Macro F1 averages over *all* classes: a class
that is neither present nor predicted counts as F1 0 (scikit-learn's
``f1_score(..., average="macro", zero_division=0)`` over the full label set).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "micro_f1",
    "macro_f1",
    "accuracy",
    "per_label_scores",
    "confusion_matrix",
    "score",
    "NO_LABEL",
    "text_losses",
    "fast_micro_f1",
    "fast_macro_f1",
    "t_interval",
    "mean_interval",
    "format_interval",
]

#: Column name used in confusion matrices for texts that got no label.
NO_LABEL = "(none)"


def _as_bool(y: Any) -> NDArray[np.bool_]:
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"expected an indicator matrix of shape (n_texts, n_classes), got shape {y.shape}")
    return y.astype(bool)


def _check(y_true: Any, y_pred: Any) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    t, p = _as_bool(y_true), _as_bool(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true has shape {t.shape} but y_pred has shape {p.shape}")
    return t, p


def _counts(t: NDArray[np.bool_], p: NDArray[np.bool_]) -> tuple[NDArray, NDArray, NDArray]:
    tp = np.count_nonzero(t & p, axis=0)
    fp = np.count_nonzero(~t & p, axis=0)
    fn = np.count_nonzero(t & ~p, axis=0)
    return tp, fp, fn


def micro_f1(y_true: Any, y_pred: Any) -> float:
    """F1 of all (text, label) decisions pooled.

    >>> micro_f1([[1, 0], [0, 1]], [[1, 0], [1, 0]])
    0.5
    """
    t, p = _check(y_true, y_pred)
    tp, fp, fn = (c.sum() for c in _counts(t, p))
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom else 0.0


def fast_micro_f1(y_true: NDArray, y_pred: NDArray) -> float:
    """Micro F1 without input checks, for tuning loops that call it thousands of times.

    Parameters
    ----------
    y_true : ndarray of shape (n_texts, n_classes), 0/1 ints or booleans
    y_pred : ndarray of the same shape, booleans

    Equals :func:`micro_f1` on valid input.

    >>> fast_micro_f1(np.array([[1, 0], [0, 1]]), np.array([[True, False], [True, False]]))
    0.5
    """
    tp = np.count_nonzero(y_pred & (y_true == 1))
    denom = np.count_nonzero(y_pred) + np.count_nonzero(y_true)
    return float(2.0 * tp / denom) if denom else 0.0


def fast_macro_f1(y_true: NDArray, y_pred: NDArray) -> float:
    """Macro F1 without input checks (a label neither present nor predicted scores 0); see :func:`macro_f1`.

    >>> fast_macro_f1(np.array([[1, 0], [0, 1]]), np.array([[True, False], [True, False]]))
    0.3333333333333333
    """
    if not y_true.shape[1]:
        return 0.0
    tp = np.count_nonzero(y_pred & (y_true == 1), axis=0)
    denom = np.count_nonzero(y_pred, axis=0) + np.count_nonzero(y_true, axis=0)
    return float(np.mean(np.where(denom > 0, 2.0 * tp / np.maximum(denom, 1), 0.0)))


def per_label_scores(y_true: Any, y_pred: Any) -> dict[str, NDArray[np.float64]]:
    """Precision, recall, F1 and support per class (0 where undefined).

    Returns
    -------
    dict with keys ``precision``, ``recall``, ``f1`` (float arrays of shape
    ``(n_classes,)``) and ``support`` (int array: true occurrences).
    """
    t, p = _check(y_true, y_pred)
    tp, fp, fn = _counts(t, p)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / np.maximum(tp + fp, 1), 0.0)
        recall = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0.0)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    return {
        "precision": precision.astype(float),
        "recall": recall.astype(float),
        "f1": f1.astype(float),
        "support": (tp + fn).astype(int),
    }


def macro_f1(y_true: Any, y_pred: Any) -> float:
    """Unweighted mean of the per-class F1 over all classes.

    >>> macro_f1([[1, 0], [0, 1]], [[1, 0], [1, 0]])
    0.3333333333333333
    """
    f1 = per_label_scores(y_true, y_pred)["f1"]
    return float(f1.mean()) if f1.size else 0.0


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Fraction of texts whose predicted label set equals the true one.

    For single-label data this is plain accuracy; for multi-label data it is
    subset accuracy (exact match).
    """
    t, p = _check(y_true, y_pred)
    if not len(t):
        return 0.0
    return float(np.mean(np.all(t == p, axis=1)))


def confusion_matrix(y_true: Any, y_pred: Any) -> NDArray[np.int64]:
    """Single-label confusion counts, rows = true class, columns = predicted.

    The last column counts texts that got no label (abstained); a text with
    several predicted labels is counted at its first one.

    Returns
    -------
    ndarray of shape ``(n_classes, n_classes + 1)``
    """
    t, p = _check(y_true, y_pred)
    c = t.shape[1]
    out = np.zeros((c, c + 1), dtype=np.int64)
    true_idx = t.argmax(axis=1)
    pred_idx = np.where(p.any(axis=1), p.argmax(axis=1), c)
    np.add.at(out, (true_idx[t.any(axis=1)], pred_idx[t.any(axis=1)]), 1)
    return out


def score(y_true: Any, y_pred: Any, classes: Sequence[str] | None = None) -> dict[str, Any]:
    """All headline metrics of one run.

    Returns
    -------
    dict with ``micro_f1``, ``macro_f1``, ``accuracy`` (floats) and
    ``per_label`` (list of dicts with label, precision, recall, f1, support).
    """
    t, p = _check(y_true, y_pred)
    per = per_label_scores(t, p)
    names = list(classes) if classes is not None else [str(j) for j in range(t.shape[1])]
    return {
        "micro_f1": micro_f1(t, p),
        "macro_f1": float(per["f1"].mean()) if per["f1"].size else 0.0,
        "accuracy": accuracy(t, p),
        "per_label": [
            {
                "label": names[j],
                "precision": float(per["precision"][j]),
                "recall": float(per["recall"][j]),
                "f1": float(per["f1"][j]),
                "support": int(per["support"][j]),
            }
            for j in range(t.shape[1])
        ],
    }


def text_losses(y_true: Any, scores: Any, *, multi_label: bool) -> NDArray[np.float64]:
    """Loss of each text, for error analysis (book ch. 2: the examples with the highest loss).

    Multi-label: mean binary cross-entropy over the labels. Single-label:
    cross-entropy of the true class after normalising the scores to sum 1.
    Scores are clipped to ``[1e-7, 1 - 1e-7]``.

    Returns
    -------
    ndarray of shape (n_texts,)

    >>> text_losses([[1, 0]], [[0.5, 0.5]], multi_label=False).round(3).tolist()
    [0.693]
    """
    t = _as_bool(y_true)
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != t.shape:
        raise ValueError(f"y_true has shape {t.shape} but scores have shape {s.shape}")
    eps = 1e-7
    if multi_label:
        p = np.clip(s, eps, 1 - eps)
        return -np.mean(np.where(t, np.log(p), np.log(1 - p)), axis=1)
    p = np.clip(s, 0, None)
    p = p / np.maximum(p.sum(axis=1, keepdims=True), eps)
    p_true = np.clip(np.where(t, p, 0).sum(axis=1), eps, 1.0)
    return -np.log(p_true)


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Student-t confidence interval of the mean of ``values`` (e.g. one score per seed or fold).

    ``mean ± t_{(1+confidence)/2, n-1} * sd / sqrt(n)`` with the sample standard
    deviation (``ddof=1``). Seeds are few, so the t quantile is used, not 1.96.
    The interval is not clipped to [0, 1]: an edge beyond it says the seeds are
    too few or too spread out for a tight estimate.

    Returns
    -------
    (low, high), or None when there are fewer than 2 values (no interval from one run).

    >>> lo, hi = t_interval([0.70, 0.72, 0.74])
    >>> round(lo, 4), round(hi, 4)
    (0.6703, 0.7697)
    >>> t_interval([0.7]) is None
    True
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"expected a 1-D sequence of values, got shape {v.shape}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1; got {confidence}")
    if len(v) < 2:
        return None
    from scipy.stats import t  # scipy comes with scikit-learn

    half = float(t.ppf((1 + confidence) / 2, len(v) - 1)) * float(v.std(ddof=1)) / np.sqrt(len(v))
    mean = float(v.mean())
    return float(mean - half), float(mean + half)


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> dict[str, Any]:
    """Mean, sample sd, n, min, max and the t-interval (``lo``/``hi``, None for n < 2) of ``values``.

    >>> r = mean_interval([0.70, 0.72, 0.74])
    >>> round(r["mean"], 2), round(r["sd"], 2), r["n"]
    (0.72, 0.02, 3)
    >>> mean_interval([0.7])["lo"] is None
    True
    """
    v = np.asarray(values, dtype=np.float64)
    if not v.size:
        raise ValueError("mean_interval needs at least one value")
    ci = t_interval(v.tolist(), confidence)
    return {
        "mean": float(v.mean()),
        "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "n": int(len(v)),
        "min": float(v.min()),
        "max": float(v.max()),
        "lo": None if ci is None else ci[0],
        "hi": None if ci is None else ci[1],
    }


def format_interval(stats: dict[str, Any], digits: int = 3) -> str:
    """``"0.720 ± 0.020 [0.670, 0.770]"`` (n >= 2) or ``"0.700 (n=1)"``, from :func:`mean_interval`.

    >>> format_interval(mean_interval([0.70, 0.72, 0.74]))
    '0.720 ± 0.020 [0.670, 0.770]'
    >>> format_interval(mean_interval([0.7]))
    '0.700 (n=1)'
    """
    m = f"{stats['mean']:.{digits}f}"
    if stats["n"] < 2 or stats.get("lo") is None:
        return f"{m} (n={stats['n']})"
    return f"{m} ± {stats['sd']:.{digits}f} [{stats['lo']:.{digits}f}, {stats['hi']:.{digits}f}]"
