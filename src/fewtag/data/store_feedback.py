"""Label events and reactions fetched from GitHub, the training data of ``fewtag feedback`` (issue 15);
mixed into :class:`~fewtag.data.store.Store`.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` and ``transaction`` that ``Store`` provides.

Tables (created lazily, on first use):

* ``label_events``: an issue's ``labeled`` / ``unlabeled`` timeline events, with the actor and time;
* ``comment_reactions``: the reactions (``+1``, ``-1``, ...) on fewtag's comment of an issue;
* ``fewtag_comments``: which comment of an issue is fewtag's, and when it was made.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

__all__ = ["FeedbackMixin"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS label_events (
    repo      TEXT NOT NULL,
    number    INTEGER NOT NULL,
    event_id  INTEGER NOT NULL,
    action    TEXT NOT NULL,
    label     TEXT NOT NULL,
    actor     TEXT,
    at        TEXT,
    PRIMARY KEY (repo, event_id)
);
CREATE INDEX IF NOT EXISTS label_events_issue ON label_events (repo, number);
CREATE TABLE IF NOT EXISTS comment_reactions (
    repo        TEXT NOT NULL,
    number      INTEGER NOT NULL,
    comment_id  INTEGER NOT NULL,
    reaction_id INTEGER NOT NULL,
    content     TEXT NOT NULL,
    user        TEXT,
    at          TEXT,
    PRIMARY KEY (repo, reaction_id)
);
CREATE TABLE IF NOT EXISTS fewtag_comments (
    repo        TEXT NOT NULL,
    number      INTEGER NOT NULL,
    comment_id  INTEGER NOT NULL,
    created_at  TEXT,
    updated_at  TEXT,
    PRIMARY KEY (repo, number)
);
"""

_EVENT_COLUMNS = ("number", "event_id", "action", "label", "actor", "at")
_REACTION_COLUMNS = ("number", "comment_id", "reaction_id", "content", "user", "at")


class FeedbackMixin:
    """Label events and reactions fetched from GitHub (``fewtag feedback``)."""

    conn: sqlite3.Connection
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]

    def _feedback_tables(self) -> None:
        if getattr(self, "_feedback_ready", False):
            return
        self.conn.executescript(_SCHEMA)
        self._feedback_ready = True

    def replace_label_events(self, repo: str, number: int, events: Iterable[dict[str, Any]]) -> int:
        """Store one issue's label events (``{"id", "event", "label": {"name"}, "actor": {"login"},
        "created_at"}`` as the timeline gives them), replacing what was stored; returns how many."""
        self._feedback_tables()
        rows = []
        for e in events:
            if not isinstance(e, dict) or e.get("event") not in ("labeled", "unlabeled"):
                continue
            label, actor = e.get("label") or {}, e.get("actor") or {}
            name = label.get("name") if isinstance(label, dict) else None
            if not name or e.get("id") is None:
                continue
            login = actor.get("login") if isinstance(actor, dict) else None
            rows.append((repo, int(number), int(e["id"]), e["event"], str(name), login, e.get("created_at")))
        with self.transaction() as conn:
            conn.execute("DELETE FROM label_events WHERE repo=? AND number=?", (repo, int(number)))
            conn.executemany("INSERT OR REPLACE INTO label_events VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def label_events(self, repo: str) -> list[dict[str, Any]]:
        """Every stored label event of ``repo``, oldest first."""
        self._feedback_tables()
        cur = self.conn.execute(
            f"SELECT {', '.join(_EVENT_COLUMNS)} FROM label_events WHERE repo=? ORDER BY at, event_id", (repo,)
        )
        return [dict(zip(_EVENT_COLUMNS, r)) for r in cur]

    def set_fewtag_comment(
        self, repo: str, number: int, comment: dict[str, Any], reactions: Iterable[dict[str, Any]]
    ) -> None:
        """Record fewtag's comment on an issue and its reactions (replacing the stored ones)."""
        self._feedback_tables()
        cid = int(comment["id"])
        rows = []
        for r in reactions:
            if not isinstance(r, dict) or r.get("id") is None or not r.get("content"):
                continue
            user = r.get("user") or {}
            login = user.get("login") if isinstance(user, dict) else None
            rows.append((repo, int(number), cid, int(r["id"]), str(r["content"]), login, r.get("created_at")))
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO fewtag_comments VALUES (?, ?, ?, ?, ?)",
                (repo, int(number), cid, comment.get("created_at"), comment.get("updated_at")),
            )
            conn.execute("DELETE FROM comment_reactions WHERE repo=? AND number=?", (repo, int(number)))
            conn.executemany("INSERT OR REPLACE INTO comment_reactions VALUES (?, ?, ?, ?, ?, ?, ?)", rows)

    def fewtag_comments(self, repo: str) -> dict[int, dict[str, Any]]:
        """``number -> {"comment_id", "created_at", "updated_at"}`` of fewtag's comments."""
        self._feedback_tables()
        cur = self.conn.execute(
            "SELECT number, comment_id, created_at, updated_at FROM fewtag_comments WHERE repo=?", (repo,)
        )
        return {int(r[0]): {"comment_id": r[1], "created_at": r[2], "updated_at": r[3]} for r in cur}

    def comment_reactions(self, repo: str) -> list[dict[str, Any]]:
        """The stored reactions on fewtag's comments of ``repo``."""
        self._feedback_tables()
        cur = self.conn.execute(f"SELECT {', '.join(_REACTION_COLUMNS)} FROM comment_reactions WHERE repo=?", (repo,))
        return [dict(zip(_REACTION_COLUMNS, r)) for r in cur]

    def fewtag_additions(self, repo: str) -> list[tuple[int, str, str]]:
        """``(number, label, at)`` of the labels fewtag recorded as added (``label_actions``), oldest first."""
        have = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='label_actions'"
        ).fetchone()
        if not have:
            return []
        cur = self.conn.execute(
            "SELECT number, label, MIN(at) FROM label_actions WHERE repo=? AND action='added' GROUP BY number, label "
            "ORDER BY MIN(at)",
            (repo,),
        )
        return [(int(r[0]), str(r[1]), str(r[2])) for r in cur]

    def set_repo_labels(self, repo: str, labels: list[str]) -> None:
        """Remember the labels the repository has now (``GET /repos/{o}/{r}/labels``)."""
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                (f"github:{repo}:labels", json.dumps({"labels": sorted(labels), "at": now})),
            )

    def repo_labels(self, repo: str) -> list[str] | None:
        """The labels stored by :meth:`set_repo_labels`, or ``None``."""
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (f"github:{repo}:labels",)).fetchone()
        return list(json.loads(row[0])["labels"]) if row else None
