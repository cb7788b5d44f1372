"""The embedded store: one SQLite file holding issues, labels and caches.

Items are keyed by ``(repo, id)``. For GitHub data ``id`` is the issue
number as text; for generic files it is the file's ``id`` field or a hash of
the text, so importing the same file twice changes nothing.

Every write happens inside one transaction, so an error (or a kill) leaves
the store as it was before the batch.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.errors import InputError

__all__ = ["Item", "Store", "DEFAULT_STORE", "UpsertCounts", "upsert_rows", "is_older"]

DEFAULT_STORE = "fewtag.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    repo        TEXT NOT NULL,
    id          TEXT NOT NULL,
    number      INTEGER,
    title       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    labels      TEXT NOT NULL DEFAULT '[]',
    is_pr       INTEGER NOT NULL DEFAULT 0,
    state       TEXT,
    author      TEXT,
    url         TEXT,
    created_at  TEXT,
    updated_at  TEXT,
    source      TEXT,
    PRIMARY KEY (repo, id)
);
CREATE INDEX IF NOT EXISTS items_updated ON items (repo, updated_at);
CREATE TABLE IF NOT EXISTS embeddings (
    model      TEXT NOT NULL,
    revision   TEXT NOT NULL,
    max_length INTEGER NOT NULL,
    text_hash  TEXT NOT NULL,
    vector     BLOB NOT NULL,
    PRIMARY KEY (model, revision, max_length, text_hash)
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


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


@dataclass
class Item:
    """One issue, pull request or generic text."""

    repo: str
    id: str
    title: str = ""
    body: str = ""
    labels: list[str] = field(default_factory=list)
    number: int | None = None
    is_pr: bool = False
    state: str | None = None
    author: str | None = None
    url: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    source: str | None = None

    @property
    def text(self) -> str:
        """Title and body joined the way the book does: ``title + "\\n\\n" + body``."""
        if self.title and self.body:
            return f"{self.title}\n\n{self.body}"
        return self.title or self.body

    def row(self) -> tuple[Any, ...]:
        return (
            self.repo,
            self.id,
            self.number,
            self.title,
            self.body,
            json.dumps(self.labels, ensure_ascii=False),
            int(self.is_pr),
            self.state,
            self.author,
            self.url,
            self.created_at,
            self.updated_at,
            self.source,
        )


_COLUMNS = "repo, id, number, title, body, labels, is_pr, state, author, url, created_at, updated_at, source"


@dataclass
class UpsertCounts:
    """What one upsert did. ``older`` counts incoming rows skipped because the store holds a
    newer version (a later ``updated_at``)."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0


class Store:
    """A SQLite store. Use as a context manager or call :meth:`close`.

    Examples
    --------
    >>> s = Store(":memory:")
    >>> s.upsert_items([Item("o/r", "1", title="Crash", labels=["bug"], number=1)]).inserted
    1
    >>> [i.labels for i in s.items()]
    [['bug']]
    """

    def __init__(self, path: str | Path = DEFAULT_STORE):
        self.path = str(path)
        if self.path != ":memory:":
            p = Path(self.path)
            if p.exists() and p.is_dir():
                raise InputError(f"store {p} is a folder, expected a SQLite file")
            p.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path} is not a fewtag store (SQLite): {exc}") from exc

    # --------------------------------------------------------------- plumbing
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.conn.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back on any exception."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # ------------------------------------------------------------------ items
    def upsert_items(self, items: Iterable[Item]) -> UpsertCounts:
        """Insert or replace items in one transaction; count what changed."""
        with self.transaction() as conn:
            return upsert_rows(conn, items)

    def items(self, repo: str | None = None, *, include_prs: bool = True) -> Iterator[Item]:
        """Items in a stable order (repo, then number/id)."""
        sql = f"SELECT {_COLUMNS} FROM items"
        where, args = [], []
        if repo is not None:
            where.append("repo = ?")
            args.append(repo)
        if not include_prs:
            where.append("is_pr = 0")
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY repo, number, id"
        for r in self.conn.execute(sql, args):
            yield _item(r)

    def get_item(self, repo: str, item_id: str | int) -> Item | None:
        r = self.conn.execute(f"SELECT {_COLUMNS} FROM items WHERE repo=? AND id=?", (repo, str(item_id))).fetchone()
        return _item(r) if r else None

    def repos(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT repo FROM items ORDER BY repo")]

    def count(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    # ------------------------------------------------------------ embeddings
    def get_embeddings(self, model: str, revision: str, max_length: int, hashes: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the given text hashes (missing ones are absent)."""
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            q = (
                "SELECT text_hash, vector FROM embeddings WHERE model=? AND revision=? "
                f"AND max_length=? AND text_hash IN ({', '.join('?' * len(chunk))})"
            )
            for h, blob in self.conn.execute(q, (model, revision, max_length, *chunk)):
                found[h] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_embeddings(self, model: str, revision: str, max_length: int, vectors: dict[str, np.ndarray]) -> None:
        with self.transaction() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?, ?, ?)",
                [
                    (model, revision, max_length, h, np.asarray(v, dtype=np.float32).tobytes())
                    for h, v in vectors.items()
                ],
            )

    # ------------------------------------------------------------------- meta
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        r = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return r[0] if r else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    # ---------------------------------------------- webhook deliveries (BEGIN, fewtag.service)
    # A delivery is "received" when the webhook accepts it (with the payload needed to redo
    # it) and "done" after its write-back; a crash in between leaves it "received", so a
    # redelivery or the next start processes it. Rows of older stores (id, event,
    # received_at only) read as done.
    _DELIVERY_COLUMNS = (
        ("status", "TEXT NOT NULL DEFAULT 'done'"),
        ("payload", "TEXT"),
        ("attempts", "INTEGER NOT NULL DEFAULT 0"),
        ("error", "TEXT"),
        ("done_at", "TEXT"),
        ("result", "TEXT"),
    )

    def _deliveries_table(self) -> None:
        if getattr(self, "_deliveries_ready", False):
            return
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS webhook_deliveries (id TEXT PRIMARY KEY, event TEXT, received_at TEXT NOT NULL)"
        )
        have = {r[1] for r in self.conn.execute("PRAGMA table_info(webhook_deliveries)")}
        for name, decl in self._DELIVERY_COLUMNS:
            if name not in have:
                self.conn.execute(f"ALTER TABLE webhook_deliveries ADD COLUMN {name} {decl}")
        self._deliveries_ready = True

    def delivery_received(self, delivery: str, event: str, payload: str) -> str:
        """Record a delivery as received; ``"new"``, ``"pending"`` (received, not done) or ``"done"``.

        A pending delivery's payload is replaced by the redelivered one.
        """
        from datetime import datetime

        self._deliveries_table()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self.transaction() as conn:
            row = conn.execute("SELECT status FROM webhook_deliveries WHERE id=?", (delivery,)).fetchone()
            if row is None:
                conn.execute(
                    "INSERT INTO webhook_deliveries (id, event, received_at, status, payload) "
                    "VALUES (?, ?, ?, 'received', ?)",
                    (delivery, event, now, payload),
                )
                return "new"
            if row[0] == "done":
                return "done"
            conn.execute("UPDATE webhook_deliveries SET event=?, payload=? WHERE id=?", (event, payload, delivery))
            return "pending"

    def delivery_done(self, delivery: str, result: str | None = None) -> None:
        """Mark a delivery done (its write-back finished); its payload is dropped."""
        from datetime import datetime

        self._deliveries_table()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        self.conn.execute(
            "UPDATE webhook_deliveries SET status='done', done_at=?, result=?, payload=NULL, "
            "attempts=attempts+1, error=NULL WHERE id=?",
            (now, result, delivery),
        )

    def delivery_failed(self, delivery: str, error: str) -> None:
        """Count a failed attempt; the delivery stays received (pending)."""
        self._deliveries_table()
        self.conn.execute(
            "UPDATE webhook_deliveries SET attempts=attempts+1, error=? WHERE id=?", (error[:1000], delivery)
        )

    def pending_deliveries(self) -> list[tuple[str, str, str]]:
        """``(id, event, payload)`` of received, not done deliveries, oldest first."""
        self._deliveries_table()
        return [
            tuple(r)
            for r in self.conn.execute(
                "SELECT id, event, payload FROM webhook_deliveries WHERE status='received' "
                "AND payload IS NOT NULL ORDER BY received_at, rowid"
            )
        ]

    def get_delivery(self, delivery: str) -> dict[str, Any] | None:
        """One delivery's row as a dict (``None`` when unknown)."""
        self._deliveries_table()
        cur = self.conn.execute("SELECT * FROM webhook_deliveries WHERE id=?", (delivery,))
        row = cur.fetchone()
        return None if row is None else dict(zip([d[0] for d in cur.description], row))

    # ------------------------------------------------ webhook deliveries (END, fewtag.service)

    # ==================== github support (fewtag.github): begin ====================
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

    # ==================== github support (fewtag.github): end ======================

    # ==================== search support (fewtag.search): begin ====================
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

    # ==================== search support (fewtag.search): end ======================


def upsert_rows(conn: sqlite3.Connection, items: Iterable[Item]) -> UpsertCounts:
    """Insert or replace items inside the caller's open transaction; count what changed.

    Newer wins: when both the stored row and the incoming item carry an
    ``updated_at`` and the incoming one is earlier, the stored row is kept and
    counted in ``older`` (importing an old dump after a new one, or a fetch
    racing a webhook, never goes back in time). When either side has no
    ``updated_at`` (generic files usually have none) or a timestamp that does
    not parse, the incoming item replaces the stored one, as before.
    Unchanged rows are not rewritten. Callers that must write more in the same
    transaction (a fetched page with its cursor) use this; others use
    :meth:`Store.upsert_items`.
    """
    counts = UpsertCounts()
    for item in items:
        row = item.row()
        old = conn.execute(f"SELECT {_COLUMNS} FROM items WHERE repo=? AND id=?", (item.repo, item.id)).fetchone()
        if old is None:
            counts.inserted += 1
        elif tuple(old) == row:
            counts.unchanged += 1
            continue
        elif is_older(item.updated_at, old[_UPDATED_AT]):
            counts.older += 1
            continue
        else:
            counts.updated += 1
        conn.execute(f"INSERT OR REPLACE INTO items ({_COLUMNS}) VALUES ({', '.join('?' * len(row))})", row)
    return counts


_UPDATED_AT = _COLUMNS.split(", ").index("updated_at")


def _timestamp(value: str | None) -> datetime | None:
    """An ISO 8601 time (GitHub's ``2024-01-01T00:00:00Z``) as an aware datetime; None if absent or bad."""
    if not value or not isinstance(value, str):
        return None
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


def is_older(new: str | None, old: str | None) -> bool:
    """True when ``new`` is a strictly earlier ``updated_at`` than ``old`` (both present and valid).

    >>> is_older("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z"), is_older(None, "2024-02-01T00:00:00Z")
    (True, False)
    """
    a, b = _timestamp(new), _timestamp(old)
    return a is not None and b is not None and a < b


def _item(r: tuple[Any, ...]) -> Item:
    return Item(
        repo=r[0],
        id=r[1],
        number=r[2],
        title=r[3],
        body=r[4],
        labels=json.loads(r[5]),
        is_pr=bool(r[6]),
        state=r[7],
        author=r[8],
        url=r[9],
        created_at=r[10],
        updated_at=r[11],
        source=r[12],
    )
