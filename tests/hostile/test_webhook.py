"""Hostile probes of the GitHub webhook: forged paths, ill-typed payloads, crashes mid-delivery.

Everything runs against the real fake GitHub (``tests/github/fake_github.py``) on
loopback and a real SQLite store; each test failed on the code before issue 12's fixes.
"""

from __future__ import annotations

import copy
import json
import threading
import time

import pytest

from tests.github.fake_github import TOKEN, FakeGitHub
from tests.service.conftest import issue_event, make_client, model_dir, signed  # noqa: F401  (fixtures)

SECRET = "hook-secret-0123456789"
REPO = "octo/widgets"


@pytest.fixture
def gh():
    with FakeGitHub() as server:
        server.add_issue(REPO, 1, "crash with a traceback", "an exception on load")
        yield server


@pytest.fixture
def hook(make_client, gh, tmp_path):
    """``hook(**settings)``: a client whose webhook writes to the fake GitHub, with a store."""

    def make(**overrides):
        opts = {
            "webhook_secret": SECRET,
            "github_token": TOKEN,
            "github_api_url": gh.url,
            "store": str(tmp_path / "s.db"),
            **overrides,
        }
        return make_client(**opts)

    return make


def settle(c) -> None:
    assert c.app.state.fewtag.worker.wait_idle(15), "the write-back worker did not finish"


def status(c, delivery: str) -> str | None:
    return c.app.state.fewtag.deliveries.status(delivery)


def delivery_rows(c) -> int:
    store = c.app.state.fewtag.store
    store._deliveries_table()
    return store.conn.execute("SELECT COUNT(*) FROM webhook_deliveries").fetchone()[0]


# --------------------------------------------------------------------- path traversal
@pytest.mark.parametrize(
    "full_name",
    [
        "../user",
        "octo/..",
        "octo/widgets/../../user",
        "./user",
        "octo/widgets?per_page=1",
        "octo/widgets#x",
        "octo%2F../user",
        "x" * 40 + "/r",
    ],
)
def test_forged_repository_names_apply_nothing(hook, gh, full_name):
    c = hook()
    r = c.post("/github/webhook", **signed(SECRET, issue_event(repo=full_name), delivery="t1"))
    assert r.status_code == 422 and "repository.full_name" in r.json()["detail"], r.text
    settle(c)
    assert gh.calls() == []  # no request at all, so none to /user/...
    assert delivery_rows(c) == 0


def test_traversal_never_reaches_user_endpoints_even_past_the_model(make_client, gh, tmp_path):
    """The write-back itself refuses a bad name (second line of defence behind the payload model)."""
    from fewtag.service.webhook import GitHubLabelWriter, LabelPlan

    writer = GitHubLabelWriter(TOKEN, gh.url)
    with pytest.raises(ValueError, match="OWNER/NAME"):
        writer.apply(LabelPlan("../user", 9, ["bug"], {"bug": 0.9}, []), dry_run=False)
    assert [c for c in gh.calls() if c["path"].startswith("/user")] == []


# ------------------------------------------------------------------ ill-typed payloads
def _event_with(path: tuple, value) -> dict:
    payload = issue_event()
    target = payload
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


_DELETE = object()
ILL_TYPED = [
    (("issue", "number"), "1"),
    (("issue", "number"), None),
    (("issue", "number"), [1]),
    (("issue", "number"), 4.7),
    (("issue", "number"), 4.0),
    (("issue", "number"), 10**30),
    (("issue", "number"), -1),
    (("issue", "number"), 0),
    (("issue", "number"), True),
    (("issue", "number"), _DELETE),
    (("issue", "title"), ["crash"]),
    (("issue", "title"), 5),
    (("issue", "title"), _DELETE),
    (("issue", "body"), {"text": "x"}),
    (("issue", "labels"), 5),
    (("issue", "labels"), [{"color": "red"}]),
    (("issue", "labels"), [{"name": 3}]),
    (("issue", "labels"), ["bug"]),
    (("issue", "labels"), None),
    (("issue",), "crash"),
    (("repository", "full_name"), {"a": "b"}),
    (("repository", "full_name"), "octo/widgets?x=1"),
    (("repository", "full_name"), None),
    (("repository",), _DELETE),
    (("issue",), _DELETE),
]


@pytest.mark.parametrize(
    ("path", "value"),
    ILL_TYPED,
    ids=[f"{'.'.join(p)}={v if v is not _DELETE else 'missing'!r}"[:60] for p, v in ILL_TYPED],
)
def test_ill_typed_payload_is_422_and_applies_nothing(hook, gh, path, value):
    c = hook()
    r = c.post("/github/webhook", **signed(SECRET, _event_with(path, value), delivery="bad"))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("The webhook payload is invalid at ") and detail.endswith("."), detail
    assert ".".join(path[:2]) in detail or path[0] in detail
    settle(c)
    assert gh.calls() == [] and delivery_rows(c) == 0
    assert gh.repos[REPO].issues[1]["labels"] == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"action": "opened", "issue": {"number": NaN, "title": "x"}, "repository": {"full_name": "octo/widgets"}}',
        b'{"action": "opened", "x": Infinity}',
        b"\xff\xfe{}",
        b"[" * 100_000,
    ],
)
def test_non_finite_or_non_utf8_webhook_body_is_422(hook, gh, body):
    c = hook()
    r = c.post("/github/webhook", **signed(SECRET, body, delivery="nan"))
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"], r.text
    assert gh.calls() == [] and delivery_rows(c) == 0


def test_signature_is_checked_before_the_body(hook):
    c = hook()
    bad = signed("not-the-secret-0123456789", b"\xff not json", delivery="x")
    assert c.post("/github/webhook", **bad).status_code == 401


# --------------------------------------------------------------- deliveries and crashes
class FlakyWriter:
    """A real GitHubLabelWriter that raises ``failures`` times first (a crash mid write-back)."""

    def __init__(self, inner, failures: int = 1):
        self.inner, self.failures, self.calls = inner, failures, 0

    def apply(self, plan, *, dry_run, timeout=None):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("simulated crash during the write-back")
        return self.inner.apply(plan, dry_run=dry_run, timeout=timeout)


def _real_writer(gh, tmp_path):
    from fewtag.data.store import Store
    from fewtag.service.webhook import GitHubLabelWriter

    return GitHubLabelWriter(TOKEN, gh.url, Store(tmp_path / "writer.db"), "m")


def test_answer_is_202_at_once_while_github_is_slow(hook, gh):
    gh.add_fault("/labels", kind="slow", delay=2.0, method="POST")
    c = hook()
    start = time.monotonic()
    r = c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="fast"))
    assert r.status_code == 202 and r.json()["status"] == "accepted"
    assert time.monotonic() - start < 1.5  # GitHub's own timeout is 10 s; the write-back takes 2
    assert status(c, "fast") == "received"
    settle(c)
    assert status(c, "fast") == "done" and gh.repos[REPO].issues[1]["labels"] == ["bug"]


def test_crash_then_redelivery_is_processed(hook, gh, tmp_path):
    """Write-back raising once, no retry left: the delivery stays received; GitHub's redelivery works."""
    flaky = FlakyWriter(_real_writer(gh, tmp_path))
    c = hook(writer=flaky, webhook_attempts=1)
    req = signed(SECRET, issue_event(), delivery="crash-1")
    assert c.post("/github/webhook", **req).status_code == 202
    settle(c)
    assert status(c, "crash-1") == "received" and gh.calls("POST") == []
    row = c.app.state.fewtag.store.get_delivery("crash-1")
    assert row["attempts"] == 1 and "simulated crash" in row["error"]
    again = c.post("/github/webhook", **req)  # GitHub's "Redeliver"
    assert again.status_code == 202 and again.json()["status"] == "accepted", again.text
    settle(c)
    assert status(c, "crash-1") == "done" and gh.repos[REPO].issues[1]["labels"] == ["bug"]
    third = c.post("/github/webhook", **req)
    assert third.json()["status"] == "duplicate" and len(gh.calls("POST", "/labels")) == 1


def test_failed_github_write_stays_pending_until_redelivered(hook, gh):
    """GitHub answers 500 to the label POST: not done, so the redelivery adds the label."""
    gh.add_fault("/labels", status=500, times=-1, method="POST")
    c = hook(webhook_attempts=2)
    req = signed(SECRET, issue_event(), delivery="g500")
    c.post("/github/webhook", **req)
    settle(c)
    assert status(c, "g500") == "received" and gh.repos[REPO].issues[1]["labels"] == []
    assert len(gh.calls("POST", "/labels")) == 2  # both attempts were made
    gh.faults.clear()
    assert c.post("/github/webhook", **req).json()["status"] == "accepted"
    settle(c)
    assert status(c, "g500") == "done" and gh.repos[REPO].issues[1]["labels"] == ["bug"]


def test_a_failure_is_retried_within_the_budget(hook, gh, tmp_path):
    flaky = FlakyWriter(_real_writer(gh, tmp_path))
    c = hook(writer=flaky, webhook_attempts=3)
    c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="retry"))
    settle(c)
    assert flaky.calls == 2 and status(c, "retry") == "done"
    assert gh.repos[REPO].issues[1]["labels"] == ["bug"]


def test_the_retry_budget_bounds_a_write_back(hook, gh):
    gh.add_fault("/labels", kind="slow", delay=4.0, times=-1, method="POST")
    c = hook(webhook_attempts=5, webhook_budget_s=1.0)
    start = time.monotonic()
    c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="budget"))
    settle(c)
    assert time.monotonic() - start < 3.5  # one 1 s attempt, no time left for another 4 s one
    assert status(c, "budget") == "received"


def test_pending_deliveries_resume_after_a_restart(hook, gh):
    gh.add_fault("/labels", status=502, times=-1, method="POST")
    c1 = hook(webhook_attempts=1)
    c1.post("/github/webhook", **signed(SECRET, issue_event(), delivery="resume"))
    settle(c1)
    assert status(c1, "resume") == "received"
    gh.faults.clear()
    c2 = hook()  # a restart on the same store: the lifespan queues what is pending
    settle(c2)
    assert status(c2, "resume") == "done" and gh.repos[REPO].issues[1]["labels"] == ["bug"]


def test_old_delivery_rows_still_count_as_handled(make_client, tmp_path):
    """A store written by the old code (id, event, received_at) keeps its deliveries as done."""
    import sqlite3

    from fewtag.data.store import Store

    db = tmp_path / "old.db"
    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE webhook_deliveries (id TEXT PRIMARY KEY, event TEXT, received_at TEXT NOT NULL)")
        conn.execute("INSERT INTO webhook_deliveries VALUES ('old-1', 'issues', '2024-01-01T00:00:00+00:00')")
    c = make_client(webhook_secret=SECRET, dry_run=True, store=str(db))
    r = c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="old-1"))
    assert r.json()["status"] == "duplicate"


def test_full_queue_is_503_and_the_delivery_is_kept(hook, gh, tmp_path):
    gate = threading.Event()
    inner = _real_writer(gh, tmp_path)

    class Blocking:
        def apply(self, plan, *, dry_run, timeout=None):
            gate.wait(10)
            return inner.apply(plan, dry_run=dry_run, timeout=timeout)

    c = hook(writer=Blocking(), webhook_queue=1)
    codes = []
    for d in ("q1", "q2", "q3"):
        codes.append(c.post("/github/webhook", **signed(SECRET, issue_event(), delivery=d)).status_code)
        time.sleep(0.2)  # q1 is taken by the worker before q2 arrives
    assert codes == [202, 202, 503]
    assert status(c, "q3") == "received"  # saved: a redelivery or restart runs it
    gate.set()
    settle(c)
    assert status(c, "q1") == status(c, "q2") == "done"
    assert c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="q3")).status_code == 202
    settle(c)
    assert status(c, "q3") == "done"


def test_webhook_uses_the_model_text_path(hook, gh, model_dir):
    """An issue template comment is cleaned by text_of before the model sees it."""
    from fewtag.registry import load_tagger

    tagger = load_tagger(model_dir)
    body = "<!-- typo docs documentation readme typo docs -->it crashes with a traceback"
    c = hook(dry_run=True)
    payload = issue_event(title="", body=body)
    payload = copy.deepcopy(payload)
    c.post("/github/webhook", **signed(SECRET, payload, delivery="text"))
    settle(c)
    result = json.loads(c.app.state.fewtag.store.get_delivery("text")["result"])
    want = tagger.predict([tagger.text_of({"title": "", "body": body})])[0]
    assert result["labels"] == list(want) == ["bug"]
