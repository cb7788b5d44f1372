"""Decision rules: turn a score matrix into label sets.

A rule is one of

* ``top-k``: the ``k`` best labels (single-label data uses ``k=1``);
* ``threshold``: every label whose score reaches one global threshold;
* ``per-label``: one threshold per label, tuned on validation, with an
  optional per-label precision target.

With ``abstain=True`` a text may get no label at all; otherwise the best
label is always kept. Rules are saved with the model as plain JSON.

What to tune *for* is one :class:`DecisionSpec` (objective, per-label
precision targets, rule kinds, a fixed top-k, abstain), the same for every
method, for ``fewtag train --objective macro --precision-target bug=0.9``, bench
configs and ``fewtag.json``; :func:`fewtag.tuning.tune_decision` turns scores,
truth and a spec into a rule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import ConfigError

__all__ = ["DecisionRule", "DecisionSpec", "RULE_KINDS", "OBJECTIVES", "check_objective"]

RULE_KINDS = ("top-k", "threshold", "per-label")
OBJECTIVES = ("micro", "macro")
Kind = Literal["top-k", "threshold", "per-label"]


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


def check_objective(objective: str) -> str:
    """Return ``objective`` if it is one of :data:`OBJECTIVES`, else raise ``ConfigError``."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"tuning objective must be one of {', '.join(OBJECTIVES)}; got {objective!r}")
    return objective
