"""GitHub webhook plumbing: signatures, delivery de-duplication, the label write-back seam.

The router (``routers/webhook.py``) stays thin: it calls :func:`verify_signature`,
:meth:`DeliveryLog.first_time`, the model, :func:`plan_labels` and a
:class:`LabelWriter`. Writing labels to GitHub is one place:
:class:`GitHubLabelWriter`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from fewtag.data.store import Store

__all__ = ["verify_signature", "sign", "DeliveryLog", "LabelPlan", "plan_labels", "LabelWriter",
           "GitHubLabelWriter", "HANDLED_ACTIONS"]

log = logging.getLogger("fewtag.service.webhook")
HANDLED_ACTIONS = ("opened", "edited")


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``.

    >>> sign("s", b"{}")[:7]
    'sha256='
    """
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the HMAC-SHA256 of the raw body (constant-time compare)."""
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode("ascii", "replace"))


class DeliveryLog:
    """Remembers recent ``X-GitHub-Delivery`` ids; persisted in the store when given.

    >>> log = DeliveryLog(max_size=2)
    >>> log.first_time("a"), log.first_time("a"), log.first_time("b")
    (True, False, True)
    """

    _SCHEMA = ("CREATE TABLE IF NOT EXISTS webhook_deliveries (id TEXT PRIMARY KEY, event TEXT, "
               "received_at TEXT NOT NULL)")

    def __init__(self, store: Store | None = None, max_size: int = 10_000,
                 lock: threading.Lock | None = None):
        self.store, self.max_size = store, max_size
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._lock = lock or threading.Lock()
        if store is not None:
            store.conn.execute(self._SCHEMA)

    def first_time(self, delivery: str, event: str = "") -> bool:
        """Record ``delivery``; False when it was seen before."""
        with self._lock:
            if delivery in self._recent:
                self._recent.move_to_end(delivery)
                return False
            if self.store is not None:
                cur = self.store.conn.execute(
                    "INSERT OR IGNORE INTO webhook_deliveries VALUES (?, ?, ?)",
                    (delivery, event, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")))
                if cur.rowcount == 0:
                    self._remember(delivery)
                    return False
            self._remember(delivery)
            return True

    def forget(self, delivery: str) -> None:
        """Drop a delivery whose handling failed, so GitHub's redelivery is processed."""
        with self._lock:
            self._recent.pop(delivery, None)
            if self.store is not None:
                self.store.conn.execute("DELETE FROM webhook_deliveries WHERE id=?", (delivery,))

    def _remember(self, delivery: str) -> None:
        self._recent[delivery] = None
        while len(self._recent) > self.max_size:
            self._recent.popitem(last=False)


@dataclass
class LabelPlan:
    """What the webhook would do to one issue: labels to add (never removes any)."""

    repo: str
    number: int
    predicted: list[str]
    scores: dict[str, float]
    current: list[str]
    add: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_labels(repo: str, number: int, current: list[str], predicted: list[str],
                scores: dict[str, float]) -> LabelPlan:
    """The predicted labels (already above their thresholds) the issue lacks.

    The writer then applies the write-back rules (e.g. never re-adding a label
    a human removed).
    """
    add = [lab for lab in predicted if lab not in current]
    return LabelPlan(repo, number, list(predicted), dict(scores), list(current), add)


class LabelWriter(Protocol):
    """Applies (or, in dry-run, only decides) a plan; returns one action dict per label.

    Each dict has ``label``, ``score``, ``action`` (``added``, ``planned``,
    ``skipped``, ``failed``) and ``reason``.
    """

    def apply(self, plan: LabelPlan, *, dry_run: bool) -> list[dict[str, Any]]:
        ...


class GitHubLabelWriter:
    """Write-back through :func:`fewtag.github.apply.apply_to_issue`: the ingestion issue's rules.

    Labels are only added, a label a human removed is never re-added, and every
    decision is recorded in the store's ``label_actions`` table (an in-memory
    store when the service has none).

    Parameters
    ----------
    token : str or None
        GitHub token; ``None`` allows dry-run only.
    api_url : str, optional
        GitHub API base (default ``$GITHUB_API_URL`` or api.github.com).
    store : Store, optional
    model_id : str, optional
        Recorded with each action.
    lock : threading.Lock, optional
        Serialises use of the store's connection with the rest of the service.
    """

    def __init__(self, token: str | None, api_url: str | None = None, store: Store | None = None,
                 model_id: str | None = None, lock: threading.Lock | None = None):
        self.token, self.api_url, self.model_id = token, api_url, model_id
        self.store = store if store is not None else Store(":memory:")
        self.lock = lock or threading.Lock()

    def apply(self, plan: LabelPlan, *, dry_run: bool) -> list[dict[str, Any]]:
        from fewtag.github.apply import apply_to_issue
        from fewtag.github.client import GitHubClient

        pairs = [(lab, float(plan.scores.get(lab, 0.0))) for lab in plan.predicted]
        if dry_run or self.token is None:
            with self.lock:
                actions = apply_to_issue(None, self.store, plan.repo, plan.number, pairs, dry_run=True,
                                         current_labels=plan.current, model=self.model_id)
        else:
            with GitHubClient(self.token, self.api_url, max_attempts=3, max_rate_wait=30.0) as client, \
                    self.lock:
                actions = apply_to_issue(client, self.store, plan.repo, plan.number, pairs,
                                         current_labels=plan.current, model=self.model_id)
        out = [{"label": a.label, "score": a.score, "action": a.action, "reason": a.reason}
               for a in actions]
        log.info("%s#%s: %s", plan.repo, plan.number,
                 "; ".join(f"{a['label']} {a['action']}" for a in out) or "no labels")
        return out
