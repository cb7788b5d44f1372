"""The ``predictions`` table written by ``fewtag tag`` (issue 16);
mixed into :class:`~fewtag.data.store.Store`.

A row per ``(repo, id, model, model_hash)``: the labels chosen, the scores of
every class, whether the model abstained, and when. The primary key makes a
prediction impossible to write twice (``INSERT OR IGNORE``), and the selection
of what to tag skips what is already there, so an interrupted ``fewtag tag``
continues where it stopped.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` and ``transaction`` that ``Store`` provides.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fewtag.errors import InputError

__all__ = ["PredictionsMixin", "Selection"]

_ITEM_COLUMNS = "repo, id, number, title, body, labels, is_pr, state, author, url, created_at, updated_at, source"


@dataclass(frozen=True)
class Selection:
    """Which items of a store to tag.

    Parameters
    ----------
    where : str, optional
        An SQL filter on the ``items`` table's columns (``repo``, ``id``, ``number``, ``title``,
        ``body``, ``labels``, ``is_pr``, ``state``, ``author``, ``url``, ``created_at``,
        ``updated_at``, ``source``), e.g. ``"state = 'open' AND created_at >= '2024'"``.
    repo : str, optional
        Only this ``OWNER/NAME``.
    state : str, optional
        Only items in this state (``open``, ``closed``).
    include_prs : bool
        Tag pull requests too.
    """

    where: str | None = None
    repo: str | None = None
    state: str | None = None
    include_prs: bool = False

    def sql(self) -> tuple[str, list[Any]]:
        """The ``WHERE`` conditions (joined by ``AND``, ``"1"`` when none) and their arguments."""
        parts, args = [], []
        if self.repo is not None:
            parts.append("items.repo = ?")
            args.append(self.repo)
        if self.state is not None:
            parts.append("items.state = ?")
            args.append(self.state)
        if not self.include_prs:
            parts.append("items.is_pr = 0")
        if self.where is not None and self.where.strip():
            parts.append(f"({self.where})")
        return (" AND ".join(parts) or "1"), args


class PredictionsMixin:
    """The ``predictions`` table written by ``fewtag tag`` (issue 16)."""

    conn: sqlite3.Connection
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]

    def _predictions_table(self) -> None:
        if getattr(self, "_predictions_ready", False):
            return
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS predictions ("
            "repo TEXT NOT NULL, id TEXT NOT NULL, model TEXT NOT NULL, model_hash TEXT NOT NULL, "
            "labels TEXT NOT NULL, scores TEXT NOT NULL, abstained INTEGER NOT NULL, predicted_at TEXT NOT NULL, "
            "PRIMARY KEY (repo, id, model, model_hash))"
        )
        self._predictions_ready = True

    # ------------------------------------------------------------ selecting
    def check_selection(self, selection: Selection) -> int:
        """How many items ``selection`` picks; a bad ``where`` filter is one :class:`InputError`."""
        cond, args = selection.sql()
        try:
            return int(self.conn.execute(f"SELECT COUNT(*) FROM items WHERE {cond}", args).fetchone()[0])
        except (sqlite3.Error, sqlite3.Warning) as exc:
            raise InputError(f"--where {selection.where!r} is not a valid filter on the items table: {exc}") from None

    def untagged_chunks(
        self, selection: Selection, model: str, model_hash: str, *, chunk_size: int = 1000
    ) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        """The selected items not yet predicted by ``(model, model_hash)``, in chunks, in rowid order.

        Each item is ``(repo, id, record)`` where ``record`` has ``title``, ``body`` and the
        other item fields, ready for ``tagger.text_of``. Chunks are read by keyset (``rowid >
        last``), so a chunk is read only when the caller asks for it and memory stays flat.
        """
        self._predictions_table()
        self.check_selection(selection)
        cond, args = selection.sql()
        sql = (
            f"SELECT items.rowid, {', '.join('items.' + c for c in _ITEM_COLUMNS.split(', '))} FROM items "
            f"WHERE {cond} AND items.rowid > ? AND NOT EXISTS (SELECT 1 FROM predictions p WHERE "
            "p.repo = items.repo AND p.id = items.id AND p.model = ? AND p.model_hash = ?) "
            "ORDER BY items.rowid LIMIT ?"
        )
        last = -1
        names = _ITEM_COLUMNS.split(", ")
        while True:
            rows = self.conn.execute(sql, [*args, last, model, model_hash, chunk_size]).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            chunk = []
            for r in rows:
                rec = dict(zip(names, r[1:]))
                rec["labels"] = json.loads(rec["labels"])
                chunk.append((rec["repo"], rec["id"], rec))
            yield chunk

    def count_untagged(self, selection: Selection, model: str, model_hash: str) -> int:
        """How many selected items have no prediction of ``(model, model_hash)`` yet."""
        self._predictions_table()
        self.check_selection(selection)
        cond, args = selection.sql()
        sql = (
            f"SELECT COUNT(*) FROM items WHERE {cond} AND NOT EXISTS (SELECT 1 FROM predictions p WHERE "
            "p.repo = items.repo AND p.id = items.id AND p.model = ? AND p.model_hash = ?)"
        )
        return int(self.conn.execute(sql, [*args, model, model_hash]).fetchone()[0])

    # -------------------------------------------------------------- writing
    def put_predictions(self, model: str, model_hash: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Write predictions in one transaction; return how many were new.

        Each row has ``repo``, ``id``, ``labels``, ``scores`` and ``abstained``. A row whose
        ``(repo, id, model, model_hash)`` is already stored is left as it was (never written twice).
        """
        self._predictions_table()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        values = [
            (
                str(r["repo"]),
                str(r["id"]),
                model,
                model_hash,
                json.dumps(list(r["labels"]), ensure_ascii=False),
                json.dumps(dict(r["scores"]), ensure_ascii=False),
                int(bool(r["abstained"])),
                now,
            )
            for r in rows
        ]
        with self.transaction() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
            return conn.total_changes - before

    # -------------------------------------------------------------- reading
    def predictions(
        self, model: str | None = None, model_hash: str | None = None, *, repo: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Stored predictions (all, or of one model / hash / repo), ordered by repo, id, model."""
        self._predictions_table()
        where, args = [], []
        for col, value in (("model", model), ("model_hash", model_hash), ("repo", repo)):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        sql = "SELECT repo, id, model, model_hash, labels, scores, abstained, predicted_at FROM predictions"
        if where:
            sql += " WHERE " + " AND ".join(where)
        for r in self.conn.execute(sql + " ORDER BY repo, id, model, model_hash", args):
            yield {
                "repo": r[0],
                "id": r[1],
                "model": r[2],
                "model_hash": r[3],
                "labels": json.loads(r[4]),
                "scores": json.loads(r[5]),
                "abstained": bool(r[6]),
                "predicted_at": r[7],
            }

    def count_predictions(self, model: str | None = None, model_hash: str | None = None) -> int:
        """How many predictions are stored (of one model and hash when given)."""
        self._predictions_table()
        where, args = [], []
        for col, value in (("model", model), ("model_hash", model_hash)):
            if value is not None:
                where.append(f"{col} = ?")
                args.append(value)
        sql = "SELECT COUNT(*) FROM predictions" + (" WHERE " + " AND ".join(where) if where else "")
        return int(self.conn.execute(sql, args).fetchone()[0])
