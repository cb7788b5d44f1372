"""What a benchmark run produced, its table columns and its summaries (no I/O, no plotting).

:func:`fewtag.eval.bench.run_bench` fills a :class:`BenchResult`;
:func:`fewtag.eval.report.write_run` writes it out. Both import this module,
neither imports the other's internals.

Choosing is done on validation only: :meth:`BenchResult.best_by_validation`
picks, per slice, the method with the best mean validation score over seeds and
reports its test figures beside it; a test figure never picks anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fewtag.eval.settings import BenchSettings
from fewtag.metrics import mean_interval

__all__ = ["BenchResult", "RESULT_COLUMNS", "PER_LABEL_COLUMNS", "SUMMARY_KEYS", "SPLITS", "summary_entry"]

#: results.csv: one row per method x slice x seed. ``val_*`` are the tuned tagger's scores on the
#: validation split (the split its decision rule was tuned on), the others are on the test split.
RESULT_COLUMNS = [
    "method",
    "slice",
    "slice_size",
    "seed",
    "val_micro_f1",
    "val_macro_f1",
    "micro_f1",
    "macro_f1",
    "accuracy",
    "train_s",
    "predict_s",
    "peak_mb",
    "status",
]
#: per_label.csv: one row per method x slice x seed x split x label; ``split`` is ``valid`` or ``test``.
PER_LABEL_COLUMNS = ["method", "slice", "slice_size", "seed", "split", "label", "precision", "recall", "f1", "support"]
SPLITS = ("valid", "test")
#: row values summarised over seeds by :meth:`BenchResult.summary`
SUMMARY_KEYS = ("val_micro_f1", "val_macro_f1", "micro_f1", "macro_f1", "accuracy", "train_s", "predict_s", "peak_mb")


@dataclass
class BenchResult:
    """Everything a run produced; :func:`fewtag.eval.report.write_run` writes it out."""

    settings: BenchSettings
    data_summary: dict[str, Any]
    labels: list[str]
    multi_label: bool
    rows: list[dict[str, Any]] = field(default_factory=list)
    per_label: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: (method display, slice, seed) -> boolean test predictions, shape (n_test, n_labels)
    predictions: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict, repr=False)
    y_test: np.ndarray | None = field(default=None, repr=False)
    #: (method display, slice, seed) -> boolean validation predictions, shape (n_valid, n_labels)
    valid_predictions: dict[tuple[str, str, int], np.ndarray] = field(default_factory=dict, repr=False)
    y_valid: np.ndarray | None = field(default=None, repr=False)
    #: method display -> (validation scores, validation predictions) at the largest slice, seed 0
    valid_scores: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    valid: Any = field(default=None, repr=False)
    slices_run: list[str] = field(default_factory=list)

    @property
    def all_failed(self) -> bool:
        return not self.rows or all(r["status"] != "ok" for r in self.rows)

    @property
    def objective(self) -> str:
        """``micro`` or ``macro``: the validation score that picks the best method."""
        return getattr(self.settings, "objective", None) or "micro"

    def summary(self) -> list[dict[str, Any]]:
        """One entry per (method, slice) over its ok seeds.

        Each of :data:`SUMMARY_KEYS` gives ``key`` (mean), ``key_sd`` (sample sd,
        0 for one seed), ``key_min``, ``key_max`` and ``key_lo`` / ``key_hi``: the
        95% t-interval of the mean over seeds (None for one seed). A key with no
        values (``val_*`` without a validation split) has all of them None.
        """
        out = []
        for method in [m.display for m in self.settings.methods]:
            for sl in self.slices_run:
                rows = [r for r in self.rows if r["method"] == method and r["slice"] == sl and r["status"] == "ok"]
                if not rows:
                    continue
                out.append(summary_entry(method, sl, rows, SUMMARY_KEYS))
        return out

    def best_by_validation(self, objective: str | None = None) -> list[dict[str, Any]]:
        """Per slice, the method with the best mean validation F1 over seeds, and its test figures.

        Parameters
        ----------
        objective : {"micro", "macro"}, optional
            Validation score that decides (default :attr:`objective`); ties go to
            the other validation F1, then to the earlier method of the run.

        Returns
        -------
        list of dict, slices in run order, each with ``slice``, ``method``, ``by``
        (the column that decided, e.g. ``val_micro_f1``) and the method's summary
        entry as ``summary``. Empty when no run has validation scores.
        """
        objective = objective or self.objective
        by, other = ("val_macro_f1", "val_micro_f1") if objective == "macro" else ("val_micro_f1", "val_macro_f1")
        order = {m.display: i for i, m in enumerate(self.settings.methods)}
        picks = []
        summary = self.summary()
        for sl in self.slices_run:
            rows = [r for r in summary if r["slice"] == sl and r[by] is not None]
            if not rows:
                continue
            best = max(
                rows, key=lambda r: (r[by], r[other] if r[other] is not None else -1.0, -order.get(r["method"], 0))
            )
            picks.append({"slice": sl, "method": best["method"], "by": by, "summary": best})
        return picks

    def best_at_largest(self) -> tuple[str, str] | None:
        """(method, slice) chosen by validation at the largest slice that has a choice.

        Without validation scores, the first method with ok rows at the largest
        slice that ran (run order: nothing is chosen on test).
        """
        picks = self.best_by_validation()
        if picks:
            return picks[-1]["method"], picks[-1]["slice"]
        summary = self.summary()
        for sl in reversed(self.slices_run):
            rows = [r for r in summary if r["slice"] == sl]
            if rows:
                return rows[0]["method"], sl
        return None


def summary_entry(method: str, sl: str, rows: list[dict[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """The summary of one (method, slice) over its seeds' rows.

    Each of ``keys`` gives ``key`` (mean), ``key_sd`` (sample sd, 0 for one seed),
    ``key_min``, ``key_max`` and ``key_lo`` / ``key_hi`` (the 95% t-interval of the
    mean, None for one seed); a key with no value in any row (None or ``""``) has
    all of them None. Values may be numbers or numeric strings (a read-back CSV).
    """
    entry: dict[str, Any] = {
        "method": method,
        "slice": sl,
        "n": len(rows),
        "slice_size": float(np.mean([float(r["slice_size"]) for r in rows])),
    }
    for key in keys:
        values = [float(r[key]) for r in rows if r.get(key) not in (None, "")]
        stats = mean_interval(values) if values else dict.fromkeys(("mean", "sd", "min", "max", "lo", "hi"))
        entry[key] = stats["mean"]
        for part in ("sd", "min", "max", "lo", "hi"):
            entry[f"{key}_{part}"] = stats[part]
    return entry
