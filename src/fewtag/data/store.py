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

from fewtag.data.store_annotations import AnnotationsMixin
from fewtag.data.store_deliveries import DeliveriesMixin
from fewtag.data.store_feedback import FeedbackMixin
from fewtag.data.store_github import GithubMixin
from fewtag.data.store_predictions import PredictionsMixin
from fewtag.data.store_search import SearchMixin
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


class Store(DeliveriesMixin, GithubMixin, SearchMixin, AnnotationsMixin, PredictionsMixin, FeedbackMixin):
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
