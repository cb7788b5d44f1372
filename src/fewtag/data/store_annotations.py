"""The ``annotations`` table: labels people gave in ``fewtag annotate`` / ``fewtag import`` of a batch (issue 14);
mixed into :class:`~fewtag.data.store.Store`.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` and ``transaction`` that ``Store`` provides.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

__all__ = ["AnnotationsMixin"]


class AnnotationsMixin:
    """The ``annotations`` table: labels people gave (``fewtag annotate``, ``fewtag import`` of a batch)."""

    conn: sqlite3.Connection
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]
