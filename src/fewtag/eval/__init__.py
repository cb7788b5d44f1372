"""Evaluation: metrics, the benchmark harness, learning curves and the report.

>>> from fewtag.eval import micro_f1
>>> micro_f1([[1, 0]], [[1, 0]])
1.0
"""

from fewtag.eval.bench import (
    BenchResult,
    BenchSettings,
    MethodSpec,
    bench,
    make_settings,
    parse_slices,
    run_bench,
)
from fewtag.eval.metrics import accuracy, confusion_matrix, macro_f1, micro_f1, per_label_scores, score
from fewtag.eval.report import write_run

__all__ = [
    "BenchResult",
    "BenchSettings",
    "MethodSpec",
    "bench",
    "make_settings",
    "parse_slices",
    "run_bench",
    "write_run",
    "accuracy",
    "confusion_matrix",
    "macro_f1",
    "micro_f1",
    "per_label_scores",
    "score",
]
