"""The ``annotations`` table: labels people gave (``fewtag annotate``, ``fewtag import`` of a batch);
mixed into :class:`~fewtag.data.store.Store`.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` and ``transaction`` that ``Store`` provides.

The table is a log: every save, skip and undo is a row, nothing is updated in place except the
``undone`` flag, so a kill at any moment loses at most the save in flight. The *current* label of an
item is its latest row that is neither undone nor a skip.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["AnnotationsMixin", "Annotation"]


@dataclass(frozen=True)
class Annotation:
    """One row of the ``annotations`` log.

    Attributes
    ----------
    id : int
        Row id; later rows have larger ids.
    repo, item_id : str
        The item, as keyed in ``items``.
    labels : list of str
        The labels given (empty for a skip, or for "none of these" in multi-label tasks).
    source : str
        ``"human"`` (the page), ``"import"`` (a filled batch file) or another tool's name.
    who : str or None
        The person, when known.
    at : str
        ISO time of the save (UTC).
    model_version : str or None
        The model that made the suggestion shown, when one was shown.
    skipped : bool
        The item was skipped, not labelled.
    """

    id: int
    repo: str
    item_id: str
    labels: list[str]
    source: str
    who: str | None
    at: str
    model_version: str | None
    skipped: bool


_COLUMNS = "id, repo, item_id, labels, source, who, at, model_version, skipped"


def _annotation(row: tuple) -> Annotation:
    return Annotation(
        id=int(row[0]),
        repo=row[1],
        item_id=row[2],
        labels=list(json.loads(row[3])),
        source=row[4],
        who=row[5],
        at=row[6],
        model_version=row[7],
        skipped=bool(row[8]),
    )


class AnnotationsMixin:
    """The ``annotations`` log (created lazily, on first use)."""

    conn: sqlite3.Connection
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]

    def _annotations_table(self) -> None:
        if getattr(self, "_annotations_ready", False):
            return
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS annotations (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                repo TEXT NOT NULL,
                item_id TEXT NOT NULL,
                labels TEXT NOT NULL,
                source TEXT NOT NULL,
                who TEXT,
                at TEXT NOT NULL,
                model_version TEXT,
                skipped INTEGER NOT NULL DEFAULT 0,
                undone INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX IF NOT EXISTS annotations_item ON annotations (repo, item_id);
            """
        )
        self._annotations_ready = True

    def add_annotations(
        self,
        rows: Iterable[tuple[str, str, list[str]]],
        *,
        source: str = "human",
        who: str | None = None,
        model_version: str | None = None,
        skipped: bool = False,
    ) -> list[int]:
        """Append ``(repo, item_id, labels)`` rows in one transaction; their ids, in order.

        Examples
        --------
        >>> from fewtag.data.store import Store
        >>> s = Store(":memory:")
        >>> s.add_annotations([("o/r", "1", ["bug"])], who="ana")
        [1]
        >>> [(a.item_id, a.labels) for a in s.current_annotations()]
        [('1', ['bug'])]
        """
        self._annotations_table()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        ids = []
        with self.transaction() as conn:
            for repo, item_id, labels in rows:
                given = json.dumps(sorted(set(labels)))
                cur = conn.execute(
                    "INSERT INTO annotations (repo, item_id, labels, source, who, at, model_version, skipped) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (repo, str(item_id), given, source, who, now, model_version, int(skipped)),
                )
                ids.append(int(cur.lastrowid or 0))
        return ids

    def undo_annotation(self, *, who: str | None = None, source: str | None = None) -> Annotation | None:
        """Mark the latest not-undone row (of ``who`` / ``source`` when given) undone; that row, or ``None``."""
        self._annotations_table()
        where, args = ["undone = 0"], []
        if who is not None:
            where.append("who IS ?")
            args.append(who)
        if source is not None:
            where.append("source = ?")
            args.append(source)
        with self.transaction() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM annotations WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT 1", args
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE annotations SET undone = 1 WHERE id = ?", (row[0],))
        return _annotation(row)

    def annotation_log(self, *, include_undone: bool = False) -> list[Annotation]:
        """Every row, oldest first (undone rows only with ``include_undone``)."""
        self._annotations_table()
        where = "" if include_undone else "WHERE undone = 0"
        return [_annotation(r) for r in self.conn.execute(f"SELECT {_COLUMNS} FROM annotations {where} ORDER BY id")]

    def current_annotations(self) -> list[Annotation]:
        """Each item's latest label (not undone, not a skip), in the order they were given."""
        self._annotations_table()
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM annotations a WHERE undone = 0 AND skipped = 0 AND id = ("
            "SELECT MAX(id) FROM annotations b WHERE b.repo = a.repo AND b.item_id = a.item_id "
            "AND b.undone = 0 AND b.skipped = 0) ORDER BY id"
        )
        return [_annotation(r) for r in rows]

    def skipped_items(self) -> set[tuple[str, str]]:
        """``(repo, item_id)`` of items whose latest not-undone row is a skip."""
        self._annotations_table()
        rows = self.conn.execute(
            "SELECT repo, item_id FROM annotations a WHERE undone = 0 AND skipped = 1 AND id = ("
            "SELECT MAX(id) FROM annotations b WHERE b.repo = a.repo AND b.item_id = a.item_id AND b.undone = 0)"
        )
        return {(r[0], r[1]) for r in rows}
