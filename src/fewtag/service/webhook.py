"""GitHub webhook plumbing: signatures, the payload model, deliveries, the label write-back seam.

The router (``routers/webhook.py``) stays thin: it calls :func:`verify_signature`,
:func:`parse_issues_event`, :meth:`DeliveryLog.received` and hands an
:class:`IssueJob` to the write-back worker (``service/writeback.py``), which
predicts, plans with :func:`plan_labels` and applies through a
:class:`LabelWriter`. Writing labels to GitHub is one place:
:class:`GitHubLabelWriter`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt, StrictStr, ValidationError

from fewtag.data.store import Store
from fewtag.github.names import check_repo

__all__ = [
    "verify_signature",
    "sign",
    "DeliveryLog",
    "LabelPlan",
    "plan_labels",
    "LabelWriter",
    "GitHubLabelWriter",
    "HANDLED_ACTIONS",
    "IssuesEvent",
    "IssueJob",
    "parse_issues_event",
    "MAX_ISSUE_NUMBER",
]

log = logging.getLogger("fewtag.service.webhook")
HANDLED_ACTIONS = ("opened", "edited")
#: GitHub's issue numbers are 32-bit; anything larger is not a real payload
MAX_ISSUE_NUMBER = 2**31 - 1


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``.

    >>> sign("s", b"{}")[:7]
    'sha256='
    """
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify_signature(secret: str | bytes, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the HMAC-SHA256 of the raw body (constant-time compare).

    An empty secret never verifies (``create_app`` refuses one before this is reached).
    """
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode("ascii", "replace"))


# ------------------------------------------------------------------ the payload model
def _repo_name(value: str) -> str:
    try:
        return check_repo(value)
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("expected a repository as ")) from None


class _Lenient(BaseModel):
    """GitHub sends many more fields than these; they are ignored, never coerced."""

    model_config = ConfigDict(extra="ignore", strict=True)


class WebhookLabel(_Lenient):
    name: StrictStr


class WebhookIssue(_Lenient):
    number: Annotated[StrictInt, Field(gt=0, le=MAX_ISSUE_NUMBER)]
    title: StrictStr
    body: StrictStr | None = None
    labels: list[WebhookLabel] = []
    pull_request: dict[str, Any] | None = None


class WebhookRepository(_Lenient):
    full_name: Annotated[StrictStr, AfterValidator(_repo_name)]


class IssuesEvent(_Lenient):
    """The part of an ``issues`` event the webhook uses; anything else is a 422.

    >>> e = IssuesEvent.model_validate({"action": "opened", "repository": {"full_name": "o/r"},
    ...     "issue": {"number": 3, "title": "Crash", "labels": [{"name": "bug"}]}})
    >>> e.issue.number, [lab.name for lab in e.issue.labels]
    (3, ['bug'])
    """

    action: StrictStr
    issue: WebhookIssue
    repository: WebhookRepository


def parse_issues_event(payload: Any) -> IssuesEvent:
    """Validate; raises :class:`pydantic.ValidationError` (the router answers 422)."""
    return IssuesEvent.model_validate(payload)


def validation_sentence(exc: ValidationError) -> str:
    """One sentence naming the first problem of a payload."""
    errors = exc.errors()
    first: dict[str, Any] = dict(errors[0]) if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "payload"
    what = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"The webhook payload is invalid at {where}: {what}{more}."


@dataclass
class IssueJob:
    """One delivery's work: predict for the issue and write the labels back."""

    delivery: str
    event: str
    repo: str
    number: int
    title: str
    body: str
    labels: list[str]

    @classmethod
    def from_event(cls, delivery: str, event: str, e: IssuesEvent) -> IssueJob:
        return cls(
            delivery,
            event,
            e.repository.full_name,
            e.issue.number,
            e.issue.title,
            e.issue.body or "",
            [lab.name for lab in e.issue.labels],
        )

    def to_json(self) -> str:
        d = asdict(self)
        del d["delivery"], d["event"]
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def from_json(cls, delivery: str, event: str, text: str) -> IssueJob:
        d = json.loads(text)
        return cls(
            delivery,
            event,
            str(d["repo"]),
            int(d["number"]),
            str(d["title"]),
            str(d["body"]),
            [str(x) for x in d["labels"]],
        )

    def record(self) -> dict[str, str]:
        """What ``tagger.text_of`` takes."""
        return {"title": self.title, "body": self.body}


# ------------------------------------------------------------------------ deliveries
class DeliveryLog:
    """Deliveries as *received* then *done*; in the store when given, else in memory.

    A delivery that was received but never done (the process died, or its
    write-back failed past its retries) is processed again when GitHub redelivers
    it, and :meth:`pending` lists them for the next start.

    >>> log = DeliveryLog(max_size=2)
    >>> log.received("a", "issues", "{}"), log.received("a", "issues", "{}")
    ('new', 'pending')
    >>> log.done("a"); log.received("a", "issues", "{}")
    'done'
    """

    def __init__(self, store: Store | None = None, max_size: int = 10_000, lock: threading.Lock | None = None):
        self.store, self.max_size = store, max_size
        self._memory: OrderedDict[str, tuple[str, str, str | None]] = OrderedDict()  # id -> (status, event, payload)
        self._lock = lock or threading.Lock()

    def received(self, delivery: str, event: str, payload: str) -> str:
        """Record ``delivery`` as received: ``"new"``, ``"pending"`` or ``"done"`` (a duplicate)."""
        with self._lock:
            if self.store is not None:
                return self.store.delivery_received(delivery, event, payload)
            old = self._memory.get(delivery)
            if old is not None and old[0] == "done":
                self._memory.move_to_end(delivery)
                return "done"
            self._memory[delivery] = ("received", event, payload)
            self._memory.move_to_end(delivery)
            while len(self._memory) > self.max_size:
                self._memory.popitem(last=False)
            return "new" if old is None else "pending"

    def done(self, delivery: str, result: dict[str, Any] | None = None) -> None:
        with self._lock:
            if self.store is not None:
                self.store.delivery_done(delivery, json.dumps(result) if result is not None else None)
            elif delivery in self._memory:
                _, event, _ = self._memory[delivery]
                self._memory[delivery] = ("done", event, None)

    def failed(self, delivery: str, error: str) -> None:
        with self._lock:
            if self.store is not None:
                self.store.delivery_failed(delivery, error)

    def pending(self) -> list[IssueJob]:
        """Received, not done deliveries (oldest first), as jobs to run again."""
        with self._lock:
            rows = (
                self.store.pending_deliveries()
                if self.store is not None
                else [(d, ev, p) for d, (st, ev, p) in self._memory.items() if st == "received" and p]
            )
        jobs = []
        for delivery, event, payload in rows:
            try:
                jobs.append(IssueJob.from_json(delivery, event, payload))
            except (ValueError, KeyError, TypeError):
                log.warning("delivery %s: unreadable saved payload; skipped", delivery)
        return jobs

    def status(self, delivery: str) -> str | None:
        """``"received"``, ``"done"`` or ``None`` (unknown)."""
        with self._lock:
            if self.store is not None:
                row = self.store.get_delivery(delivery)
                return None if row is None else str(row["status"])
            old = self._memory.get(delivery)
            return None if old is None else old[0]


# -------------------------------------------------------------------------- write-back
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


def plan_labels(
    repo: str, number: int, current: list[str], predicted: list[str], scores: dict[str, float]
) -> LabelPlan:
    """The predicted labels (already above their thresholds) the issue lacks.

    The writer then applies the write-back rules (e.g. never re-adding a label
    a human removed).
    """
    add = [lab for lab in predicted if lab not in current]
    return LabelPlan(repo, number, list(predicted), dict(scores), list(current), add)


class LabelWriter(Protocol):
    """Applies (or, in dry-run, only decides) a plan; returns one action dict per label.

    Each dict has ``label``, ``score``, ``action`` (``added``, ``planned``,
    ``skipped``, ``failed``) and ``reason``. ``timeout`` is the time left for the
    whole write-back, in seconds.
    """

    def apply(self, plan: LabelPlan, *, dry_run: bool, timeout: float | None = None) -> list[dict[str, Any]]: ...


class GitHubLabelWriter:
    """Write-back through :func:`fewtag.github.apply.apply_to_issue`: the ingestion issue's rules.

    Labels are only added, a label a human removed is never re-added, and every
    decision is recorded in the store's ``label_actions`` table (an in-memory
    store when the service has none). Each call makes single attempts with a
    timeout that fits the time left; the write-back worker retries.

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

    def __init__(
        self,
        token: str | None,
        api_url: str | None = None,
        store: Store | None = None,
        model_id: str | None = None,
        lock: threading.Lock | None = None,
    ):
        self.token, self.api_url, self.model_id = token, api_url, model_id
        self.store = store if store is not None else Store(":memory:")
        self.lock = lock or threading.Lock()

    def apply(self, plan: LabelPlan, *, dry_run: bool, timeout: float | None = None) -> list[dict[str, Any]]:
        from fewtag.github.apply import apply_to_issue
        from fewtag.github.client import GitHubClient

        pairs = [(lab, float(plan.scores.get(lab, 0.0))) for lab in plan.predicted]
        if dry_run or self.token is None:
            with self.lock:
                actions = apply_to_issue(
                    None,
                    self.store,
                    plan.repo,
                    plan.number,
                    pairs,
                    dry_run=True,
                    current_labels=plan.current,
                    model=self.model_id,
                )
        else:
            per_request = max(0.5, min(5.0, timeout)) if timeout is not None else 5.0
            with (
                GitHubClient(
                    self.token, self.api_url, timeout=per_request, max_attempts=1, max_rate_wait=0.0
                ) as client,
                self.lock,
            ):
                actions = apply_to_issue(
                    client, self.store, plan.repo, plan.number, pairs, current_labels=plan.current, model=self.model_id
                )
        out = [{"label": a.label, "score": a.score, "action": a.action, "reason": a.reason} for a in actions]
        log.info(
            "%s#%s: %s", plan.repo, plan.number, "; ".join(f"{a['label']} {a['action']}" for a in out) or "no labels"
        )
        return out
