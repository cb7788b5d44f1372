"""Turn a tagger into the batch function the micro-batcher runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["TextResult", "make_predict_fn"]

#: (labels, scores by label, abstained) for one text
TextResult = tuple[list[str], dict[str, float], bool]


def make_predict_fn(tagger: Any) -> Callable[[list[str]], list[TextResult]]:
    """``fn(texts)`` -> one ``(labels, scores, abstained)`` per text, using the saved decision rule."""
    classes = list(tagger.classes_)

    def predict(texts: list[str]) -> list[TextResult]:
        scores = np.asarray(tagger.predict_proba(texts), dtype=np.float64)
        chosen = tagger.decision_.apply(scores)
        out: list[TextResult] = []
        for row, pick in zip(scores, chosen):
            labels = [classes[j] for j in np.flatnonzero(pick)]
            out.append((labels, {c: round(float(s), 6) for c, s in zip(classes, row)}, not labels))
        return out

    return predict
