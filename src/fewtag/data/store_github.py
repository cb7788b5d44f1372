"""The SQL fewtag.github needs, mixed into :class:`~fewtag.data.store.Store`.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` that ``Store`` provides.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

__all__ = ["GithubMixin"]

#: the tables fewtag.github adds (same file, same transactions as ``items``)
_GITHUB_SCHEMA = """
CREATE TABLE IF NOT EXISTS comments (
    repo        TEXT NOT NULL,
    issue_id    TEXT NOT NULL,
    id          INTEGER NOT NULL,
    author      TEXT,
    body        TEXT NOT NULL DEFAULT '',
    created_at  TEXT,
    updated_at  TEXT,
    url         TEXT,
    PRIMARY KEY (repo, id)
);
CREATE INDEX IF NOT EXISTS comments_issue ON comments (repo, issue_id);
CREATE TABLE IF NOT EXISTS http_cache (
    url         TEXT PRIMARY KEY,
    etag        TEXT NOT NULL,
    next_url    TEXT,
    fetched_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS label_actions (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    repo        TEXT NOT NULL,
    number      INTEGER NOT NULL,
    label       TEXT NOT NULL,
    score       REAL,
    action      TEXT NOT NULL,
    reason      TEXT,
    model       TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS label_actions_issue ON label_actions (repo, number, label);
"""


def _now_iso() -> str:
    """UTC now as ``2024-03-01T12:00:00Z`` (the stamp of the GitHub tables)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GithubMixin:
    """Comments, ETags, label actions and cursors of fewtag.github (tables made by :meth:`ensure_github_tables`)."""

    conn: sqlite3.Connection

    # The SQL that fewtag.github needs; it runs none of its own. The methods taking ``conn``
    # write inside the caller's open :meth:`transaction`, so one page's items, comments,
    # ETags and cursor (or one issue's label actions and labels) still commit together.
    def ensure_github_tables(self) -> None:
        """Create the GitHub tables (comments, http_cache, label_actions) if missing (idempotent)."""
        self.conn.executescript(_GITHUB_SCHEMA)

    def newest_updated(self, repo: str) -> str | None:
        """The newest ``updated_at`` stored for ``repo`` (``None`` when there is none)."""
        row = self.conn.execute("SELECT MAX(updated_at) FROM items WHERE repo=?", (repo,)).fetchone()
        return row[0] if row and row[0] else None

    def item_updated_at(self, repo: str, item_id: str | int) -> tuple[bool, str | None]:
        """``(whether the item is stored, its updated_at)``."""
        row = self.conn.execute("SELECT updated_at FROM items WHERE repo=? AND id=?", (repo, str(item_id))).fetchone()
        return (False, None) if row is None else (True, row[0])

    def comment_count(self, repo: str, issue_id: str | int) -> int:
        """How many comments are stored for one issue."""
        return int(
            self.conn.execute(
                "SELECT COUNT(*) FROM comments WHERE repo=? AND issue_id=?", (repo, str(issue_id))
            ).fetchone()[0]
        )

    def stored_comments(self, repo: str, issue_id: str | int) -> list[dict[str, Any]]:
        """The stored comments of one issue, oldest first."""
        rows = self.conn.execute(
            "SELECT id, author, body, created_at, updated_at, url FROM comments "
            "WHERE repo=? AND issue_id=? ORDER BY created_at, id",
            (repo, str(issue_id)),
        )
        return [dict(zip(("id", "author", "body", "created_at", "updated_at", "url"), r)) for r in rows]

    def replace_comments(self, conn: sqlite3.Connection, repo: str, issue_id: str, comments: Iterable[Any]) -> int:
        """Replace one issue's stored comments (inside ``conn``'s transaction); returns how many were written.

        Entries that are not dicts with an ``id`` are skipped.
        """
        conn.execute("DELETE FROM comments WHERE repo=? AND issue_id=?", (repo, issue_id))
        written = 0
        for c in comments:
            if not isinstance(c, dict) or "id" not in c:
                continue
            user = c.get("user") or {}
            conn.execute(
                "INSERT OR REPLACE INTO comments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    repo,
                    issue_id,
                    int(c["id"]),
                    user.get("login") if isinstance(user, dict) else None,
                    str(c.get("body") or ""),
                    c.get("created_at"),
                    c.get("updated_at"),
                    c.get("html_url"),
                ),
            )
            written += 1
        return written

    def get_etag(self, url: str) -> tuple[str, str | None] | None:
        """``(etag, next_url)`` stored for ``url``, or ``None``."""
        row = self.conn.execute("SELECT etag, next_url FROM http_cache WHERE url=?", (url,)).fetchone()
        return (row[0], row[1]) if row else None

    def put_etag(self, conn: sqlite3.Connection, url: str, etag: str | None, next_url: str | None) -> None:
        """Remember ``etag`` for ``url`` inside ``conn``'s transaction (the one that stored its data)."""
        if etag:
            conn.execute("INSERT OR REPLACE INTO http_cache VALUES (?, ?, ?, ?)", (url, etag, next_url, _now_iso()))

    def drop_etag(self, conn: sqlite3.Connection, url: str) -> None:
        """Forget the ETag stored for ``url`` (inside ``conn``'s transaction)."""
        conn.execute("DELETE FROM http_cache WHERE url=?", (url,))

    def put_meta(self, conn: sqlite3.Connection, key: str, value: str) -> None:
        """:meth:`set_meta` inside ``conn``'s open transaction."""
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def labels_with_action(self, repo: str, number: int, action: str) -> set[str]:
        """Labels of one issue that have a ``label_actions`` row with ``action``."""
        rows = self.conn.execute(
            "SELECT DISTINCT label FROM label_actions WHERE repo=? AND number=? AND action=?",
            (repo, int(number), action),
        )
        return {r[0] for r in rows}

    def record_label_actions(self, conn: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
        """Append ``(repo, number, label, score, action, reason, model, at)`` rows (inside ``conn``'s transaction)."""
        conn.executemany(
            "INSERT INTO label_actions (repo, number, label, score, action, reason, model, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            list(rows),
        )

    def set_item_labels(self, conn: sqlite3.Connection, repo: str, item_id: str, labels: list[str]) -> None:
        """Overwrite one stored item's labels (inside ``conn``'s transaction)."""
        conn.execute(
            "UPDATE items SET labels=? WHERE repo=? AND id=?", (json.dumps(labels, ensure_ascii=False), repo, item_id)
        )
