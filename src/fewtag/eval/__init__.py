"""Evaluation: the benchmark harness, learning curves and the report (metrics: :mod:`fewtag.metrics`).

Names are imported lazily on first use, so ``import fewtag.eval.metrics``
(or ``fewtag.eval.settings``) does not load the harness or matplotlib. The
one-call ``bench()`` is :func:`fewtag.eval.bench.bench` (the package cannot
export it under the name of its own submodule).

>>> from fewtag.eval import micro_f1
>>> micro_f1([[1, 0]], [[1, 0]])
1.0
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name -> module that defines it
_LAZY = {
    "BenchResult": "fewtag.eval.result",
    "RESULT_COLUMNS": "fewtag.eval.result",
    "PER_LABEL_COLUMNS": "fewtag.eval.result",
    "BenchSettings": "fewtag.eval.settings",
    "MethodSpec": "fewtag.eval.settings",
    "make_settings": "fewtag.eval.settings",
    "parse_slices": "fewtag.eval.settings",
    "run_bench": "fewtag.eval.bench",
    "write_run": "fewtag.eval.report",
    "accuracy": "fewtag.metrics",
    "confusion_matrix": "fewtag.metrics",
    "macro_f1": "fewtag.metrics",
    "micro_f1": "fewtag.metrics",
    "per_label_scores": "fewtag.metrics",
    "score": "fewtag.metrics",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fewtag.eval' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
