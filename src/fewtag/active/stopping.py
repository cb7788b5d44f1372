"""When to stop labelling: the cross-validated estimate has stopped rising.

A stabilising-predictions style rule on the estimate itself (cf. small-text's
``stopping_criteria``): stop when none of the last ``rounds`` estimates beats the best one
before them by more than ``min_gain``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["stopping_hint", "estimate_value"]


def estimate_value(estimate: Any, key: str = "macro_f1") -> float | None:
    """The mean ``key`` of an estimate: a :class:`~fewtag.crossval.CVEstimate`, its ``summary()``
    dict, a :class:`~fewtag.active.session.Trained`, a number, or ``None``.

    >>> estimate_value({"macro_f1": {"mean": 0.5}}), estimate_value(0.25), estimate_value(None)
    (0.5, 0.25, None)
    """
    if estimate is None:
        return None
    if isinstance(estimate, bool):
        raise TypeError("an estimate is a number, a CVEstimate or its summary, not a boolean")
    if isinstance(estimate, (int, float)):
        return float(estimate)
    if hasattr(estimate, "estimate") and not isinstance(estimate, Mapping):  # a Trained
        return estimate_value(estimate.estimate, key)
    if hasattr(estimate, "summary"):
        estimate = estimate.summary()
    if isinstance(estimate, Mapping):
        value = estimate.get(key)
        if isinstance(value, Mapping):
            value = value.get("mean")
        return None if value is None else float(value)
    raise TypeError(f"cannot read an estimate from {type(estimate).__name__}")


def stopping_hint(
    history: Sequence[Any], *, rounds: int = 3, min_gain: float = 0.01, key: str = "macro_f1"
) -> str | None:
    """A one-line hint when the estimate has stopped rising; ``None`` while it still rises.

    Parameters
    ----------
    history : sequence, oldest first
        One entry per round: an estimate (see :func:`estimate_value`) or an
        ``(n_labelled, estimate)`` pair. Rounds without an estimate are left out.
    rounds : int
        How many latest rounds must fail to improve.
    min_gain : float
        Smallest rise that counts.

    Examples
    --------
    >>> stopping_hint([0.40, 0.55, 0.62]) is None
    True
    >>> stopping_hint([(10, 0.40), (20, 0.60), (30, 0.605), (40, 0.59), (50, 0.60)])
    'the estimate (macro_f1) has not risen by more than 0.01 over the last 3 rounds (best 0.600 at 20 labels, \
now 0.600 at 50): more labels are unlikely to help much'
    """
    points: list[tuple[int | None, float]] = []
    for entry in history:
        n: int | None = None
        if isinstance(entry, tuple) and len(entry) == 2:
            n, entry = entry
        value = estimate_value(entry, key)
        if value is not None:
            points.append((n, value))
    if len(points) <= rounds:
        return None
    before, last = points[:-rounds], points[-rounds:]
    best_n, best = max(before, key=lambda p: p[1])
    if max(v for _, v in last) > best + min_gain:
        return None
    at = f" at {best_n} labels" if best_n is not None else ""
    now_n, now = last[-1]
    now_at = f" at {now_n}" if now_n is not None else ""
    return (
        f"the estimate ({key}) has not risen by more than {min_gain:g} over the last {rounds} rounds "
        f"(best {best:.3f}{at}, now {now:.3f}{now_at}): more labels are unlikely to help much"
    )
