"""The store tables the GitHub code adds: comments, HTTP cache, label actions.

Created with ``CREATE TABLE IF NOT EXISTS`` on the store's own connection, so
they live in the same SQLite file and the same transactions as ``items``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

from fewtag.data.store import Store

__all__ = ["ensure_tables", "now_iso", "get_etag", "put_etag"]

_SCHEMA = """
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


def ensure_tables(store: Store) -> None:
    """Create the GitHub tables in ``store`` if missing (idempotent)."""
    store.conn.executescript(_SCHEMA)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def get_etag(store: Store, url: str) -> tuple[str, str | None] | None:
    """``(etag, next_url)`` stored for ``url``, or ``None``."""
    row = store.conn.execute("SELECT etag, next_url FROM http_cache WHERE url=?", (url,)).fetchone()
    return (row[0], row[1]) if row else None


def put_etag(conn: sqlite3.Connection, url: str, etag: str | None, next_url: str | None) -> None:
    """Remember ``etag`` for ``url`` (call inside the transaction that stored its data)."""
    if etag:
        conn.execute("INSERT OR REPLACE INTO http_cache VALUES (?, ?, ?, ?)", (url, etag, next_url, now_iso()))
