"""Label events and reactions fetched from GitHub, the training data of ``fewtag feedback`` (issue 15);
mixed into :class:`~fewtag.data.store.Store`.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` and ``transaction`` that ``Store`` provides.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

__all__ = ["FeedbackMixin"]


class FeedbackMixin:
    """Label events and reactions fetched from GitHub (``fewtag feedback``)."""

    conn: sqlite3.Connection
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]
