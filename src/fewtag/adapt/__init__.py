"""Domain adaptation: continued pretraining of an encoder on unlabelled texts.

>>> from fewtag.adapt import adapt, read_texts  # doctest: +SKIP
>>> adapt(read_texts("data/hf"), "sentence-transformers/all-MiniLM-L6-v2",  # doctest: +SKIP
...       "models/minilm-da", time_budget=300)

The output folder is a model checkpoint that ``knn``, ``embed-logreg``,
``setfit`` and ``finetune`` take as ``model=DIR``.
"""

from __future__ import annotations

from fewtag.adapt.core import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_LENGTH,
    DEFAULT_STEPS,
    OBJECTIVES,
    AdaptResult,
    adapt,
    check_settings,
    detect_objective,
    has_mlm_head,
)
from fewtag.adapt.texts import read_items, read_texts

__all__ = [
    "adapt",
    "AdaptResult",
    "check_settings",
    "detect_objective",
    "has_mlm_head",
    "OBJECTIVES",
    "DEFAULT_STEPS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_LENGTH",
    "read_texts",
    "read_items",
]
