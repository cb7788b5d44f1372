"""Duplicate detection: a "no match" threshold on the nearest neighbour's score.

Ground truth, best first:

1. *pairs*: an issue labelled ``duplicate`` whose body says ``Duplicate of #N``
   (or links ``.../issues/N``) with ``#N`` in the index. A flag is correct when
   the issue's nearest neighbour is its original (or, for an original, its
   duplicate).
2. *labels*: when no body names its original, recall is the share of issues
   labelled ``duplicate`` that are flagged, and a flag is correct when the issue
   or its nearest neighbour is labelled ``duplicate`` (the original of a
   duplicate is rarely labelled). This is a weak, pessimistic truth:
   unlabelled duplicate pairs count as false positives.

The threshold maximising F1 is kept in the index's ``meta.json``.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from fewtag.data.store import Store
from fewtag.search.persist import SearchIndex

__all__ = ["DuplicateReport", "find_duplicate_pairs", "tune_duplicate_threshold", "DUPLICATE_LABEL"]

DUPLICATE_LABEL = "duplicate"
_REF = re.compile(r"duplicate\s+(?:of|to)\s*:?\s*(?:#|https?://github\.com/[\w.-]+/[\w.-]+/issues/)(\d+)", re.I)


@dataclass
class DuplicateReport:
    """The tuned threshold and how well it separates duplicates."""

    truth: str  # "pairs", "labels" or "none"
    n_positive: int
    n_candidates: int
    threshold: float | None
    precision: float | None
    recall: float | None
    f1: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def find_duplicate_pairs(
    store: Store, index: SearchIndex, label: str = DUPLICATE_LABEL
) -> tuple[list[int], list[tuple[int, int]]]:
    """Rows labelled ``label`` and the ``(duplicate_row, original_row)`` pairs named in bodies."""
    positives, pairs = [], []
    for row, key in enumerate(index.keys):
        item = store.get_item(key["repo"], key["id"])
        if item is None or label not in item.labels:
            continue
        positives.append(row)
        m = _REF.search(item.body or "")
        if m:
            target = index.position(key["repo"], m.group(1))
            if target is not None and target != row:
                pairs.append((row, target))
    return positives, pairs


def _best_f1(
    scores: np.ndarray, correct: np.ndarray, found: np.ndarray, n_positive: int
) -> tuple[float, float, float, float]:
    """Threshold with the best F1 when every row with ``score >= t`` is flagged.

    ``correct[i]``: a flag on row ``i`` is right (precision); ``found[i]``: a flag
    on row ``i`` finds one of the ``n_positive`` positives (recall).
    """
    order = np.argsort(-scores, kind="stable")
    flagged = np.arange(1, len(order) + 1)
    precision = np.cumsum(correct[order]) / flagged
    recall = np.cumsum(found[order]) / max(n_positive, 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0)
    best = int(np.argmax(f1))
    return float(scores[order][best]), float(precision[best]), float(recall[best]), float(f1[best])


def tune_duplicate_threshold(store: Store, index: SearchIndex, label: str = DUPLICATE_LABEL) -> DuplicateReport:
    """Tune the "no match" threshold on the issues labelled ``label``; see the module docstring."""
    positives, pairs = find_duplicate_pairs(store, index, label)
    n = len(index)
    if not positives or n < 3:
        return DuplicateReport("none", len(positives), n, None, None, None, None)
    neighbours = index.search(index.vectors, 2)
    nn_row = np.full(n, -1)
    nn_score = np.full(n, -1.0)
    for i, pairs_i in enumerate(neighbours):
        others = [(r, s) for r, s in pairs_i if r != i]
        if others:
            nn_row[i], nn_score[i] = others[0]
    if pairs:
        linked = {(a, b) for a, b in pairs} | {(b, a) for a, b in pairs}
        correct = np.array([(i, int(nn_row[i])) in linked for i in range(n)], dtype=float)
        found, truth, n_pos = correct, "pairs", len({x for pair in pairs for x in pair})
    else:
        pos = np.zeros(n, dtype=bool)
        pos[positives] = True
        # a flagged pair is right when either side is labelled (the original of a
        # duplicate usually is not); recall counts the labelled duplicates flagged
        correct = (pos | (nn_row >= 0) & pos[np.maximum(nn_row, 0)]).astype(float)
        found, truth, n_pos = pos.astype(float), "labels", len(positives)
    t, p, r, f = _best_f1(nn_score, correct, found, n_pos)
    # floor, so the pair that set the threshold still reaches it after rounding
    return DuplicateReport(truth, n_pos, n, math.floor(t * 1e4) / 1e4, round(p, 4), round(r, 4), round(f, 4))
