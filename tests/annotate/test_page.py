"""The page in-process (TestClient): showing, saving, skipping, undoing, escaping, forged posts."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from fewtag.active.task import LabelTask
from fewtag.annotate import AnnotateSettings, create_annotate_app
from fewtag.data.store import Store

from .conftest import REPO, SCRIPT_BODY, wait_for

BASE = "http://127.0.0.1:8765"
TASK = LabelTask.from_labels("bug,docs,question", descriptions={"bug": "Something is broken"})


def _page(store_path, **settings):
    s = AnnotateSettings(store=str(store_path), who="ana", batch=8, retrain_every=3, **settings)
    return create_annotate_app(s, TASK)


@pytest.fixture
def client(store_path):
    with TestClient(_page(store_path), base_url=BASE) as c:
        wait_for(lambda: c.get("/api/progress").json()["pending"] > 0, what="the first batch")
        yield c


def _form(html: str) -> dict[str, str]:
    """The hidden fields of the save form."""
    form = html[html.index('id="save-form"') : html.index("</form>", html.index('id="save-form"'))]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def _shown(html: str) -> str:
    return re.search(r'data-id="([^"]+)"', html).group(1)


def test_page_shows_an_issue_with_labels_descriptions_and_keys(client):
    html = client.get("/").text
    assert 'id="issue"' in html and 'id="title"' in html
    assert html.count('type="radio"') == 3  # single-label task: radio buttons
    assert "Something is broken" in html
    for key in ("1", "2", "3"):
        assert f'data-key="{key}"' in html
    progress = client.get("/api/progress").json()
    assert progress["n_labelled"] == 6 and dict(progress["counts"]) == {"bug": 2, "docs": 2, "question": 2}


def test_the_script_body_is_escaped_text(client):
    html = client.get("/item", params={"repo": REPO, "id": "1"}).text
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned = 1; document.title = &#34;pwned&#34;&lt;/script&gt;" in html
    assert "&lt;b&gt;not bold&lt;/b&gt; &amp;" in html
    assert SCRIPT_BODY  # the raw body is in the store, only the page escapes it
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


def test_save_goes_to_the_log_at_once_with_who_and_model_version(client, store_path):
    html = client.get("/").text
    fields = _form(html)
    r = client.post("/save", data={**fields, "label": "docs"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/?note=saved"
    with Store(store_path) as s:
        [row] = [a for a in s.annotation_log() if a.source == "human"]
    assert (row.repo, row.item_id, row.labels, row.who) == (REPO, fields["id"], ["docs"], "ana")
    assert row.model_version == (fields["version"] or None)
    assert row.model_version and row.model_version.startswith("tfidf-logreg-")
    assert _shown(client.get("/").text) != fields["id"]


def test_skip_and_undo(client, store_path):
    first = _form(client.get("/").text)
    client.post("/skip", data=first)
    second = _shown(client.get("/").text)
    assert second != first["id"]
    r = client.post("/undo", data={"csrf": first["csrf"]}, follow_redirects=False)
    assert r.headers["location"] == "/?note=undone"
    assert _shown(client.get("/").text) == first["id"]  # the undone issue comes back first
    with Store(store_path) as s:
        assert s.skipped_items() == set() and len(s.annotation_log(include_undone=True)) == 1
    assert "Nothing to undo" in client.post("/undo", data={"csrf": first["csrf"]}).text


def test_single_label_needs_one_label_and_unknown_labels_are_refused(client, store_path):
    fields = _form(client.get("/").text)
    assert client.post("/save", data=fields).status_code == 400
    r = client.post("/save", data={**fields, "label": "feature"}, headers={"accept": "text/html"})
    assert r.status_code == 400 and "unknown label" in r.text
    assert client.post("/save", data={**fields, "label": ["bug", "docs"]}).status_code == 400
    with Store(store_path) as s:
        assert s.annotation_log() == []


def test_forged_posts_are_refused(client, store_path):
    fields = _form(client.get("/").text)
    good = {**fields, "label": "bug"}
    assert client.post("/save", data={**good, "csrf": "guess"}).status_code == 403
    assert client.post("/save", data={k: v for k, v in good.items() if k != "csrf"}).status_code == 403
    assert client.post("/save", data=good, headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post("/save", data=good, headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert client.post("/save", json=good).status_code == 415
    with Store(store_path) as s:
        assert s.annotation_log() == []
    assert client.post("/save", data=good, headers={"origin": BASE}).status_code == 200  # followed redirect


def test_dns_rebinding_host_is_refused(client):
    assert client.get("/", headers={"host": "attacker.example:8765"}).status_code == 421
    assert client.get("/", headers={"host": "localhost:8765"}).status_code == 200


def test_multi_label_page_uses_checkboxes_and_saves_none(store_path):
    task = LabelTask.from_labels("bug,docs,question", multi_label=True)
    settings = AnnotateSettings(store=str(store_path), who="bo", batch=4)
    with TestClient(create_annotate_app(settings, task), base_url=BASE) as c:
        wait_for(lambda: c.get("/api/progress").json()["pending"] > 0, what="the first batch")
        html = c.get("/").text
        assert html.count('type="checkbox"') == 3
        fields = _form(html)
        c.post("/save", data={**fields, "label": ["bug", "question"]})
        c.post("/save", data=_form(c.get("/").text))  # none of these
    with Store(store_path) as s:
        assert [a.labels for a in s.annotation_log()] == [["bug", "question"], []]


def test_token_login_cookie_and_bearer(store_path):
    token = "a-long-enough-token-123"
    with TestClient(_page(store_path, host="0.0.0.0", token=token), base_url=BASE) as c:
        assert c.get("/").status_code == 401
        assert c.get("/healthz").status_code == 200
        login = c.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
        assert c.post("/login", data={"csrf": csrf, "token": "wrong-token-wrong-token"}).status_code == 401
        assert c.get("/").status_code == 401
        r = c.post("/login", data={"csrf": csrf, "token": token}, follow_redirects=False)
        assert r.status_code == 303 and "httponly" in r.headers["set-cookie"].lower()
        assert "samesite=strict" in r.headers["set-cookie"].lower() and token not in r.headers["set-cookie"]
        assert c.get("/api/progress").status_code == 200
        c.cookies.clear()
        assert c.get("/api/progress", headers={"authorization": f"Bearer {token}"}).status_code == 200
        assert c.get("/", headers={"host": "annotate.example.org"}).status_code == 401  # any host, but the token


def test_review_queue_from_the_audit_file(store_path, tmp_path):
    with Store(store_path) as s:
        s.add_annotations([(REPO, "2", ["docs"])], source="import")  # before the audit: not a review
    review = tmp_path / "label_issues.csv"
    review.write_text(
        "repo,id,kind,label,given,suggested,score,text\n"  # the columns fewtag audit writes
        f"{REPO},2,wrong-label,docs,docs,question,0.91,Typo in docs\n"
        f"{REPO},5,missing-label,docs,bug,bug|docs,0.77,Crash\n"
    )
    with TestClient(_page(store_path, review=str(review)), base_url=BASE) as c:
        listing = c.get("/review").text
        assert listing.count("open</td>") == 2 and "missing-label: docs" in listing
        r = c.get("/review/next", follow_redirects=False)
        assert r.status_code == 303 and "id=2" in r.headers["location"]
        html = c.get(r.headers["location"]).text
        assert "wrong-label" in html and re.search(r'value="docs"\s+data-key="2" checked', html)
        fields = _form(html)
        assert fields["next"] == "/review/next"
        time.sleep(1.05)  # the log keeps whole seconds: a review is a save in a later second than the file
        r = c.post("/save", data={**fields, "label": "question"}, follow_redirects=False)
        assert r.headers["location"] == "/review/next"
        assert "id=5" in c.get("/review/next", follow_redirects=False).headers["location"]
        assert c.get("/review").text.count("reviewed</td>") == 1
    with TestClient(_page(store_path, review=str(review)), base_url=BASE) as c:  # the queue survives a restart
        assert c.get("/review").text.count("reviewed</td>") == 1


def test_a_bad_review_file_is_one_error(store_path, tmp_path):
    from fewtag.errors import InputError

    bad = tmp_path / "flags.csv"
    bad.write_text("repo,id,label\nacme/widgets,1,bug\n")
    with pytest.raises(InputError, match="lacks the column"):
        _page(store_path, review=str(bad))
    with pytest.raises(InputError, match="does not exist"):
        _page(store_path, review=str(tmp_path / "none.csv"))


def test_progress_shows_the_estimate_with_its_interval_and_the_stopping_hint(client):
    from dataclasses import replace

    from fewtag.active.session import stopping_hint
    from fewtag.metrics import mean_interval

    state = client.app.state.annotate
    flat = [
        (n, {"micro_f1": mean_interval([f, f + 0.02, f - 0.02]), "macro_f1": mean_interval([f, f + 0.02])})
        for n, f in ((10, 0.50), (20, 0.62), (30, 0.62), (40, 0.615), (50, 0.62))
    ]
    hint = stopping_hint(flat)
    assert hint  # three rounds without a gain over 0.62
    state.install(snapshot=replace(state.snapshot, estimate=flat[-1][1], history=flat, stop_hint=hint))
    html = client.get("/").text
    assert "micro 0.620 ± 0.020 [0.570, 0.670]" in html
    assert 'id="stop-hint"' in html and hint in html
    assert "0.51 (10) → 0.63 (20)" in html


def test_only_web_links_are_links(client, store_path):
    from fewtag.data.store import Item

    with Store(store_path) as s:
        s.upsert_items([Item(REPO, "99", title="Odd link", body="x", number=99, url="javascript:alert(1)")])
    html = client.get("/item", params={"repo": REPO, "id": "99"}).text
    assert 'id="title">Odd link<' in html and "javascript:" not in html
    assert 'href="https://github.com/acme/widgets/issues/' in client.get("/").text
