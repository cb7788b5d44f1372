"""A weighted average of several methods' scores, weights tuned on validation.

``ensemble`` fits each member method (any registered name) on the same
labelled texts and averages their score matrices. Members may look at a
different *view* of each text: ``"full"`` (the text) or ``"first-line"`` (up
to the first newline: an issue's title, since prepared issue texts are
``title + "\\n\\n" + body``). A title is short and to the point, and a sentence
encoder sees all of it, where the full text is truncated; on the
huggingface/datasets issues a title-embedding member is what lifts the rare
tags (documentation, streaming) at 128 labelled issues.

The member weights are chosen on validation from a grid on the simplex
(step ``weight_step``) by the objective of the decision spec given to ``fit``
(:class:`fewtag.decision.DecisionSpec`, the same API as every method): the
objective value of the decision rule tuned on the weighted scores. The rule is
then tuned with the same spec. Without validation the weights are equal (or
those given).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray

from fewtag.decision import DecisionSpec
from fewtag.errors import ConfigError
from fewtag.io import read_json, write_json
from fewtag.labels import LabelInput, indicator_to_labels
from fewtag.methods.base import BaseTagger
from fewtag.registry import load_tagger, register
from fewtag.tuning import objective_value, tune_decision

__all__ = ["EnsembleTagger", "VIEWS", "DEFAULT_MEMBERS", "simplex_grid", "text_view"]

VIEWS = ("full", "first-line")
#: tfidf on the whole text + a sentence encoder on the title.
DEFAULT_MEMBERS: tuple[dict[str, Any], ...] = (
    {"name": "tfidf-logreg"},
    {"name": "embed-logreg", "view": "first-line", "params": {"max_length": 64}},
)
_FILE = "ensemble.json"
_MEMBERS_DIR = "members"


def text_view(texts: list[str], view: str) -> list[str]:
    """The part of each text a member sees.

    >>> text_view(["Crash on load\\n\\nIt fails.", "one line"], "first-line")
    ['Crash on load', 'one line']
    """
    if view == "full":
        return list(texts)
    out = []
    for t in texts:
        line = t.strip().split("\n", 1)[0].strip()
        out.append(line or t)  # a text that is all whitespace up front keeps itself
    return out


def simplex_grid(n: int, step: float) -> NDArray[np.float64]:
    """All weight vectors of length ``n`` on the simplex whose entries are multiples of ``step``.

    >>> simplex_grid(2, 0.5).tolist()
    [[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]]
    """
    k = int(round(1.0 / step))
    rows = [c for c in itertools.product(range(k + 1), repeat=n) if sum(c) == k]
    return np.asarray(rows, dtype=np.float64) / k


@register("ensemble")
class EnsembleTagger(BaseTagger):
    """Weighted mean of the scores of several methods.

    Parameters
    ----------
    members : list of dict
        One dict per member: ``name`` (a registered method), optional
        ``params`` (its constructor arguments) and ``view`` (``"full"`` or
        ``"first-line"``). Default: :data:`DEFAULT_MEMBERS`.
    weights : list of float, optional
        Fixed member weights (normalised to sum 1); default: tuned on
        validation, equal without it.
    weight_step : float
        Grid step of the weight search on the simplex (0.25: 15 candidates for
        3 members).
    model : str, optional
        Encoder for members that take a ``model`` and do not set one.
    random_state : int
        Passed to members that take one and do not set it.

    Attributes
    ----------
    members_ : list of BaseTagger
    weights_ : ndarray of shape (n_members,)

    Examples
    --------
    >>> t = EnsembleTagger(members=[{"name": "naive-bayes"}, {"name": "tfidf-logreg"}]).fit(
    ...     ["crash on load", "add a flag", "segfault crash", "new option"], ["bug", "feature", "bug", "feature"])
    >>> t.predict(["crash again"]), t.weights_.tolist()
    ([['bug']], [0.5, 0.5])
    """

    #: member weights are tuned on validation inside ``fit``
    tuning = "holdout"

    def __init__(
        self,
        *,
        members: list[dict[str, Any]] | None = None,
        weights: list[float] | None = None,
        weight_step: float = 0.25,
        model: str | None = None,
        random_state: int = 0,
    ):
        self.members = members
        self.weights = weights
        self.weight_step = weight_step
        self.model = model
        self.random_state = random_state

    # ---------------------------------------------------------------- checks
    def _specs(self) -> list[dict[str, Any]]:
        specs = [dict(m) for m in (self.members if self.members is not None else DEFAULT_MEMBERS)]
        if not specs:
            raise ConfigError("ensemble needs at least one member; got members=[]")
        for i, spec in enumerate(specs):
            unknown = set(spec) - {"name", "params", "view"}
            if "name" not in spec or unknown:
                raise ConfigError(
                    f"ensemble member {i} must be a table with 'name' and optional 'params', "
                    f"'view'; got keys {sorted(spec)}"
                )
            if spec["name"] == self.name:
                raise ConfigError("an ensemble cannot be a member of itself")
            spec.setdefault("view", "full")
            if spec["view"] not in VIEWS:
                raise ConfigError(
                    f"ensemble member {i} ({spec['name']}): view must be one of "
                    f"{', '.join(VIEWS)}; got {spec['view']!r}"
                )
            spec["params"] = dict(spec.get("params") or {})
        if self.weights is not None:
            if len(self.weights) != len(specs) or min(self.weights) < 0 or sum(self.weights) <= 0:
                raise ConfigError(
                    f"ensemble weights must be {len(specs)} non-negative numbers with a "
                    f"positive sum, one per member; got {self.weights}"
                )
        if not 0 < self.weight_step <= 1:
            raise ConfigError(f"weight_step must be in (0, 1]; got {self.weight_step}")
        return specs

    def _member(self, spec: dict[str, Any]) -> BaseTagger:
        from fewtag.registry import create

        # unknown name: UnknownMethodError before any fit
        return create(spec["name"], spec["params"], model=self.model, seed=self.random_state)

    # ------------------------------------------------------------------- fit
    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        specs = self._specs()
        members = [self._member(s) for s in specs]
        labels = indicator_to_labels(y, self.classes_, self.multi_label_)
        val_scores = []
        for spec, member in zip(specs, members):
            view = spec["view"]
            val = None
            if validation is not None:
                val = (
                    text_view(validation[0], view),
                    indicator_to_labels(validation[1], self.classes_, self.multi_label_),
                )
            member.fit(
                text_view(texts, view),
                labels,
                classes=self.classes_,
                multi_label=self.multi_label_,
                validation=val,
                unlabelled=text_view(unlabelled, view) if unlabelled else None,
            )
            if validation is not None:
                val_scores.append(member.predict_proba(text_view(validation[0], view)))
        self.members_, self.views_ = members, [s["view"] for s in specs]
        if self.weights is not None:
            w = np.asarray(self.weights, dtype=np.float64)
        elif validation is not None and len(members) > 1:
            w = self._tune_weights(np.stack(val_scores), validation[1])
        else:
            w = np.ones(len(members))
        self.weights_ = w / w.sum()
        self._val_cache = (
            (list(validation[0]), np.tensordot(self.weights_, np.stack(val_scores), axes=1))
            if validation is not None
            else None
        )
        self.metadata_["ensemble"] = {
            "members": [s["name"] + ("" if s["view"] == "full" else f" ({s['view']})") for s in specs],
            "weights": [round(float(v), 4) for v in self.weights_],
            "objective": self.decision_spec().objective,
        }

    def _tune_weights(self, stacked: NDArray, y_val: NDArray) -> NDArray[np.float64]:
        """The grid weights with the best validation objective (first one on ties)."""
        best_w: NDArray[np.float64] | None = None
        best_f = -1.0
        for w in simplex_grid(len(stacked), self.weight_step):
            f = self._objective_value(np.tensordot(w, stacked, axes=1), y_val)
            if f > best_f + 1e-12:
                best_w, best_f = w, f
        self.metadata_["ensemble_valid_objective"] = round(best_f, 4)
        assert best_w is not None  # the grid is never empty and every objective is >= 0
        return best_w

    def _objective_value(self, scores: NDArray, y_val: NDArray) -> float:
        """The spec's objective after tuning a rule on these weighted validation scores."""
        spec = self.decision_spec()
        rule = tune_decision(scores, y_val, multi_label=self.multi_label_, classes=self.classes_, spec=spec)
        return objective_value(y_val, rule.apply(scores), spec.objective)

    def tune(
        self,
        texts: Sequence[str],
        y: LabelInput | NDArray,
        *,
        decision: DecisionSpec | Mapping[str, Any] | None = None,
    ) -> Self:
        """As :meth:`BaseTagger.tune`; the validation scores computed in ``fit`` are reused once."""
        try:
            return super().tune(texts, y, decision=decision)
        finally:
            self._val_cache = None  # only the pass right after fit may reuse it

    # --------------------------------------------------------------- predict
    def _scores(self, texts) -> NDArray[np.float64]:
        cache = getattr(self, "_val_cache", None)
        if cache is not None and cache[0] == list(texts):  # the validation pass right after fit
            return cache[1]
        total = np.zeros((len(texts), len(self.classes_)))
        for w, member, view in zip(self.weights_, self.members_, self.views_):
            if w > 0:
                total += w * member.predict_proba(text_view(texts, view))
        return total

    # ------------------------------------------------------------ save/load
    def _save_weights(self, folder: Path) -> None:
        for i, member in enumerate(self.members_):
            member.save(folder / _MEMBERS_DIR / str(i))
        write_json(folder / _FILE, {"weights": [float(v) for v in self.weights_], "views": self.views_})

    def _load_weights(self, folder: Path) -> None:
        data = read_json(folder / _FILE)
        self.weights_ = np.asarray(data["weights"], dtype=np.float64)
        self.views_ = list(data["views"])
        self.members_ = [load_tagger(folder / _MEMBERS_DIR / str(i)) for i in range(len(self.weights_))]
        self._val_cache = None
