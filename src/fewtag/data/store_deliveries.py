"""Webhook deliveries in the store (used by fewtag.service); mixed into :class:`~fewtag.data.store.Store`.

Kept apart from ``store.py`` so each module holds one concern (STYLE 10). It must not
import ``store.py``: the mixin only needs the ``conn`` and ``transaction`` that ``Store`` provides.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable
from datetime import UTC
from typing import Any

__all__ = ["DeliveriesMixin"]


class DeliveriesMixin:
    """The ``webhook_deliveries`` table: received / done / failed deliveries (created lazily, on first use)."""

    conn: sqlite3.Connection
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]]

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
