"""The store tables the GitHub code adds: comments, HTTP cache, label actions.

Their schema and all their SQL live in :class:`fewtag.data.store.Store` (its
"github support" block), on the store's own connection, so they share the
SQLite file and the transactions of ``items``.
"""

from __future__ import annotations

import datetime as dt

from fewtag.data.store import Store

__all__ = ["ensure_tables", "now_iso", "get_etag"]


def ensure_tables(store: Store) -> None:
    """Create the GitHub tables in ``store`` if missing (idempotent); the SQL is the store's."""
    store.ensure_github_tables()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def get_etag(store: Store, url: str) -> tuple[str, str | None] | None:
    """``(etag, next_url)`` stored for ``url``, or ``None``."""
    return store.get_etag(url)
