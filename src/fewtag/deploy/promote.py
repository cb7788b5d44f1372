"""Staged retraining: promote a candidate model only if it is not worse than the current one
beyond noise, on the same held-out issues.

* Both models predict the same held-out issues (each through its own text path); the
  quality is micro F1 of the label sets each model's decision rule picks.
* A **paired bootstrap** (the issues resampled with replacement, the same resample for both
  models, 2000 times) gives a 95% percentile interval of ``F1(candidate) - F1(current)``. The
  candidate is refused when the whole interval is below zero (worse beyond noise), promoted
  otherwise.
* The report is dotnet/issue-labeler's: per threshold, the share of issues whose top label
  (when its score reaches the threshold) matches a human label, mismatches, or gets no
  prediction.
* Promotion copies the candidate into the current model's folder and keeps the previous
  model beside it (``CURRENT.previous``) for rollback.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.errors import InputError
from fewtag.methods.base import BaseTagger

__all__ = [
    "ThresholdRow",
    "Comparison",
    "threshold_report",
    "compare_models",
    "read_heldout",
    "promote_folder",
    "THRESHOLDS",
]

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass
class ThresholdRow:
    threshold: float
    match: float
    mismatch: float
    none: float


@dataclass
class Comparison:
    n: int
    current_f1: float
    candidate_f1: float
    diff_low: float
    diff_high: float
    promote: bool
    current_rows: list[ThresholdRow] = field(default_factory=list)
    candidate_rows: list[ThresholdRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "issues": self.n,
            "current_micro_f1": round(self.current_f1, 4),
            "candidate_micro_f1": round(self.candidate_f1, 4),
            "difference_95": [round(self.diff_low, 4), round(self.diff_high, 4)],
            "promote": self.promote,
        }


def read_heldout(data: str | Path) -> tuple[list[dict[str, Any]], list[set[str]]]:
    """Held-out records and their human labels: a prepared folder's test split, or a labelled file."""
    path = Path(data)
    if path.is_dir():
        from fewtag.data.loading import load_data

        ds = load_data(path)
        if not len(ds.test):
            raise InputError(f"{path} has no test split to compare the models on")
        return [{"text": t} for t in ds.test.texts], [set(labs) for labs in ds.test.labels]
    if not path.is_file():
        raise InputError(f"{path} does not exist; give a labelled file or a prepared folder")
    from fewtag.data.labelled import read_labelled_file

    rows = read_labelled_file(path)
    labelled = [(t, set(labs)) for t, labs in zip(rows.texts, rows.labels) if labs]
    if not labelled:
        raise InputError(f"{path} has no labelled rows")
    return [{"text": t} for t, _ in labelled], [labs for _, labs in labelled]


def _predict(tagger: BaseTagger, records: Sequence[dict[str, Any]]) -> tuple[list[set[str]], np.ndarray, list[str]]:
    texts = [tagger.text_of(r) for r in records]
    scores = tagger.predict_proba(texts)
    picked = tagger.decision_.apply(scores)
    classes = list(tagger.classes_)
    return [{classes[j] for j in np.flatnonzero(row)} for row in picked], scores, classes


def threshold_report(
    scores: np.ndarray, classes: Sequence[str], truth: Sequence[set[str]], thresholds: Sequence[float] = THRESHOLDS
) -> list[ThresholdRow]:
    """Per threshold: shares of issues whose top label matches a human label, mismatches, or has no prediction.

    >>> [r.match for r in threshold_report(np.array([[0.9, 0.1], [0.6, 0.4]]), ["a", "b"], [{"a"}, {"b"}], [0.5, 0.8])]
    [0.5, 0.5]
    """
    top = scores.argmax(axis=1)
    best = scores[np.arange(len(scores)), top]
    out = []
    for t in thresholds:
        has = best >= t
        match = np.array([has[i] and classes[top[i]] in truth[i] for i in range(len(truth))])
        n = max(1, len(truth))
        out.append(ThresholdRow(float(t), match.sum() / n, (has & ~match).sum() / n, (~has).sum() / n))
    return out


def _indicator(sets: Sequence[set[str]], universe: list[str]) -> np.ndarray:
    idx = {c: j for j, c in enumerate(universe)}
    y = np.zeros((len(sets), len(universe)), dtype=bool)
    for i, s in enumerate(sets):
        for lab in s:
            if lab in idx:
                y[i, idx[lab]] = True
    return y


def _micro_f1_counts(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-issue (tp, fp, fn) counts, shape (n, 3)."""
    return np.stack([(t & p).sum(1), (~t & p).sum(1), (t & ~p).sum(1)], axis=1)


def _f1(c: np.ndarray) -> np.ndarray:
    tp, fp, fn = c[..., 0], c[..., 1], c[..., 2]
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def compare_models(
    current: BaseTagger,
    candidate: BaseTagger,
    records: Sequence[dict[str, Any]],
    truth: Sequence[set[str]],
    *,
    n_boot: int = 2000,
    seed: int = 0,
    thresholds: Sequence[float] = THRESHOLDS,
) -> Comparison:
    """Both models on the same held-out issues, with a paired bootstrap of the micro-F1 difference."""
    if not records:
        raise InputError("no held-out issues to compare the models on")
    cur_sets, cur_scores, cur_classes = _predict(current, records)
    cand_sets, cand_scores, cand_classes = _predict(candidate, records)
    universe = sorted(set(cur_classes) | set(cand_classes) | {lab for s in truth for lab in s})
    t = _indicator(truth, universe)
    c_cur = _micro_f1_counts(t, _indicator(cur_sets, universe))
    c_cand = _micro_f1_counts(t, _indicator(cand_sets, universe))
    rng = np.random.RandomState(seed)
    idx = rng.randint(0, len(records), size=(n_boot, len(records)))
    diffs = _f1(c_cand[idx].sum(1)) - _f1(c_cur[idx].sum(1))
    low, high = (float(v) for v in np.percentile(diffs, [2.5, 97.5]))
    return Comparison(
        n=len(records),
        current_f1=float(_f1(c_cur.sum(0))),
        candidate_f1=float(_f1(c_cand.sum(0))),
        diff_low=low,
        diff_high=high,
        promote=high >= 0.0,
        current_rows=threshold_report(cur_scores, cur_classes, truth, thresholds),
        candidate_rows=threshold_report(cand_scores, cand_classes, truth, thresholds),
    )


def promote_folder(candidate: str | Path, current: str | Path) -> Path:
    """Copy ``candidate`` to ``current``, keeping the old ``current`` as ``CURRENT.previous``; returns that path."""
    candidate, current = Path(candidate), Path(current)
    previous = current.with_name(current.name + ".previous")
    staging = current.with_name(f".{current.name}.incoming")
    if staging.exists():
        shutil.rmtree(staging)
    shutil.copytree(candidate, staging)
    if previous.exists():
        shutil.rmtree(previous)
    if current.exists():
        current.rename(previous)
    staging.rename(current)
    return previous
