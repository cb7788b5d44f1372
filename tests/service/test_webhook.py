"""POST /github/webhook: signatures, events, delivery de-duplication, dry-run and write-back.

A valid issues delivery is answered 202 at once; the write-back worker does the rest,
so tests wait for it (``settle``) and read the outcome from the fake GitHub or the
delivery log.
"""

from __future__ import annotations

import pytest

from fewtag.service.webhook import DeliveryLog, sign, verify_signature
from tests.github.fake_github import TOKEN, FakeGitHub
from tests.service.conftest import issue_event, signed

SECRET = "hook-secret-0123456789"


def settle(c) -> None:
    assert c.app.state.fewtag.worker.wait_idle(10), "the write-back worker did not finish"


def result(c, delivery: str) -> dict:
    import json

    row = c.app.state.fewtag.deliveries
    assert row.status(delivery) == "done", row.status(delivery)
    store = c.app.state.fewtag.store
    return json.loads(store.get_delivery(delivery)["result"])


@pytest.fixture
def gh():
    with FakeGitHub() as server:
        server.add_issue("octo/widgets", 1, "crash with a traceback", "an exception on load")
        yield server


def test_signature_helpers():
    body = b'{"a": 1}'
    assert verify_signature("k", body, sign("k", body))
    assert not verify_signature("k", body, sign("other", body))
    assert not verify_signature("k", body + b" ", sign("k", body))
    assert not verify_signature("k", body, None) and not verify_signature("k", body, "sha1=abc")


def test_missing_or_wrong_signature_is_401(make_client):
    c = make_client(webhook_secret=SECRET, dry_run=True)
    req = signed(SECRET, issue_event())
    headers = dict(req["headers"])
    del headers["X-Hub-Signature-256"]
    assert c.post("/github/webhook", content=req["content"], headers=headers).status_code == 401
    bad = signed("not-the-secret", issue_event())
    r = c.post("/github/webhook", **bad)
    assert r.status_code == 401 and "FEWTAG_WEBHOOK_SECRET" in r.json()["detail"]
    tampered = dict(req, content=req["content"].replace(b"crash", b"crush"))
    assert c.post("/github/webhook", **tampered).status_code == 401


def test_unconfigured_secret_is_503(make_client):
    c = make_client()
    r = c.post("/github/webhook", **signed(SECRET, issue_event()))
    assert r.status_code == 503 and "FEWTAG_WEBHOOK_SECRET" in r.json()["detail"]


def test_ping_and_ignored_events(make_client):
    c = make_client(webhook_secret=SECRET, dry_run=True)
    r = c.post("/github/webhook", **signed(SECRET, {"zen": "Keep it simple."}, event="ping", delivery="p"))
    assert r.status_code == 200 and r.json()["status"] == "pong"
    r = c.post("/github/webhook", **signed(SECRET, {"action": "created"}, event="issue_comment", delivery="c"))
    assert r.status_code == 204
    r = c.post("/github/webhook", **signed(SECRET, issue_event("closed"), delivery="x"))
    assert r.status_code == 204
    r = c.post("/github/webhook", **signed(SECRET, b"not json", delivery="bad"))
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]
    r = c.post("/github/webhook", **signed(SECRET, {"action": "opened", "issue": {}}, delivery="y"))
    assert r.status_code == 422


def test_dry_run_plans_only_and_deduplicates(make_client, gh, tmp_path):
    c = make_client(
        webhook_secret=SECRET, dry_run=True, github_token=TOKEN, github_api_url=gh.url, store=str(tmp_path / "s.db")
    )
    r = c.post("/github/webhook", **signed(SECRET, issue_event(labels=["triage"]), delivery="d1"))
    body = r.json()
    assert r.status_code == 202 and body["status"] == "accepted" and body["dry_run"] is True
    settle(c)
    done = result(c, "d1")
    assert done["status"] == "planned" and done["labels"] == ["bug"]
    assert [(a["label"], a["action"]) for a in done["actions"]] == [("bug", "planned")]
    again = c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="d1"))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert gh.calls("POST") == []  # nothing written in dry-run
    metrics = c.get("/metrics").text
    assert 'fewtag_webhook_deliveries_total{event="issues",status="duplicate"} 1.0' in metrics
    assert 'fewtag_webhook_deliveries_total{event="issues",status="planned"} 1.0' in metrics


def test_write_back_to_fake_github(make_client, gh, tmp_path):
    c = make_client(webhook_secret=SECRET, github_token=TOKEN, github_api_url=gh.url, store=str(tmp_path / "s.db"))
    r = c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="w1"))
    assert r.status_code == 202 and r.json()["status"] == "accepted", r.text
    settle(c)
    assert result(c, "w1")["added"] == ["bug"]
    assert gh.repos["octo/widgets"].issues[1]["labels"] == ["bug"]
    assert len(gh.calls("POST", "/labels")) == 1
    # a human removes the label; an "edited" event must not put it back
    gh.remove_label("octo/widgets", 1, "bug")
    c.post("/github/webhook", **signed(SECRET, issue_event("edited"), delivery="w2"))
    settle(c)
    done = result(c, "w2")
    assert done["added"] == [] and done["actions"][0]["action"] == "skipped"
    assert gh.repos["octo/widgets"].issues[1]["labels"] == []


def test_without_token_the_webhook_only_plans(make_client):
    c = make_client(webhook_secret=SECRET)
    r = c.post("/github/webhook", **signed(SECRET, issue_event(), delivery="n1"))
    assert r.status_code == 202 and r.json()["dry_run"] is True
    settle(c)
    assert c.app.state.fewtag.deliveries.status("n1") == "done"


def test_deliveries_persist_in_the_store(make_client, tmp_path):
    from fewtag.data.store import Store

    db = tmp_path / "s.db"
    Store(db).close()
    c1 = make_client(webhook_secret=SECRET, dry_run=True, store=str(db))
    assert c1.post("/github/webhook", **signed(SECRET, issue_event(), delivery="p1")).status_code == 202
    settle(c1)
    c2 = make_client(webhook_secret=SECRET, dry_run=True, store=str(db))  # a restart
    assert c2.post("/github/webhook", **signed(SECRET, issue_event(), delivery="p1")).json()["status"] == "duplicate"


def test_delivery_log_memory_is_bounded():
    log = DeliveryLog(max_size=2)
    for d in "abc":
        assert log.received(d, "issues", "{}") == "new"
        log.done(d)
    assert log.received("a", "issues", "{}") == "new"  # forgotten: only the 2 most recent are kept
    assert log.received("c", "issues", "{}") == "done"
