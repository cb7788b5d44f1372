"""The SQL semantic search (fewtag.search) needs, mixed into :class:`~fewtag.data.store.Store`.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` and ``transaction`` that ``Store`` provides.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

__all__ = ["SearchMixin"]


class SearchMixin:
    """Table checks, comment bodies and embedding counts / deletes for fewtag.search."""

    conn: sqlite3.Connection
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]

    # The SQL that semantic search needs; fewtag.search runs none of its own.
    def has_table(self, name: str) -> bool:
        """Whether the store has a table ``name`` (``comments`` exists once ``fetch --comments`` ran)."""
        return (
            self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone()
            is not None
        )

    def comment_bodies(self, repo: str, issue_id: str | int) -> list[str]:
        """Non-empty comment bodies of one issue, oldest first; ``[]`` without a ``comments`` table."""
        if not self.has_table("comments"):
            return []
        rows = self.conn.execute(
            "SELECT body FROM comments WHERE repo=? AND issue_id=? ORDER BY created_at, id", (repo, str(issue_id))
        )
        return [r[0] for r in rows if r[0]]

    def count_embeddings(self, model: str, revision: str, max_length: int) -> int:
        """How many vectors the store holds for one ``(model, revision, max_length)``."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM embeddings WHERE model=? AND revision=? AND max_length=?",
                (model, revision, max_length),
            ).fetchone()[0]
        )

    def delete_embeddings(self, model: str, revision: str, max_length: int) -> int:
        """Drop the vectors of one ``(model, revision, max_length)``; returns how many went."""
        with self.transaction() as conn:
            return conn.execute(
                "DELETE FROM embeddings WHERE model=? AND revision=? AND max_length=?", (model, revision, max_length)
            ).rowcount
