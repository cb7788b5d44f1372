"""Domain adaptation: continued pretraining of an encoder on unlabelled texts.

>>> from fewtag.adapt import adapt, read_texts  # doctest: +SKIP
>>> adapt(read_texts("data/hf"), "sentence-transformers/all-MiniLM-L6-v2",  # doctest: +SKIP
...       "models/minilm-da", steps=300)

The output folder is a model checkpoint that ``knn``, ``embed-logreg``,
``setfit`` and ``finetune`` take as ``model=DIR``.
"""

from __future__ import annotations

from fewtag.adapt.core import OBJECTIVES, AdaptResult, adapt, detect_objective
from fewtag.adapt.texts import read_items, read_texts

__all__ = ["adapt", "AdaptResult", "detect_objective", "OBJECTIVES", "read_texts", "read_items"]
