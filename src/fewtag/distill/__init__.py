"""Distillation: a small sentence encoder learns a big teacher's geometry, then gets a head.

>>> from fewtag.distill import distill, read_distill_data  # doctest: +SKIP
>>> data = read_distill_data("data/react")  # doctest: +SKIP
>>> distill("models/mpnet-setfit", data, "models/minilm-distilled")  # doctest: +SKIP

The output folder is a ``setfit`` model folder (the distilled body + a
logistic head) that ``fewtag predict`` reads.
"""

from __future__ import annotations

from fewtag.distill.core import HEADS, DistillResult, distill
from fewtag.distill.data import DistillData, read_distill_data
from fewtag.distill.teacher import Teacher, load_teacher
from fewtag.distill.train import cosine_gap, train_student_body

__all__ = [
    "distill",
    "DistillResult",
    "HEADS",
    "DistillData",
    "read_distill_data",
    "Teacher",
    "load_teacher",
    "cosine_gap",
    "train_student_body",
]
