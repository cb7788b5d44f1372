"""fetch_repo against the fake server: sync, resume, comments, odd issues."""

from __future__ import annotations

import pytest

from fewtag.errors import GitHubError, GitHubNotFoundError, InputError
from fewtag.github.sync import fetch_repo, newest_updated, resolve_since, stored_comments
from tests.github.conftest import REPO, add_issues


def _numbers(store, repo=REPO):
    rows = store.conn.execute("SELECT number FROM items WHERE repo=? ORDER BY number", (repo,))
    return [r[0] for r in rows]


def test_fetch_all_keeps_issues_and_prs_apart(gh, make_client, store):
    add_issues(gh, 230, prs_every=10)
    pages = []
    r = fetch_repo(store, REPO, client=make_client(), on_page=lambda res: pages.append(res.items))
    assert (r.items, r.issues, r.prs, r.pages) == (230, 207, 23, 3)
    assert pages == [100, 200, 230]
    assert _numbers(store) == list(range(1, 231))
    assert store.get_item(REPO, 10).is_pr and not store.get_item(REPO, 11).is_pr
    assert len(list(store.items(REPO, include_prs=False))) == 207
    assert store.get_item(REPO, 5).state == "closed"
    assert store.get_item(REPO, 3).labels == ["bug"]
    q = gh.calls("GET", "/issues")[0]["query"]
    assert q == {"state": "all", "sort": "updated", "direction": "asc", "per_page": "100"}
    assert r.rate_remaining == gh.remaining and r.rate_limit == gh.rate_limit


def test_state_filter_and_max(gh, make_client, store):
    add_issues(gh, 30)
    r = fetch_repo(store, REPO, client=make_client(), state="closed")
    assert r.items == 6 and all(i.state == "closed" for i in store.items(REPO))
    r = fetch_repo(store, REPO, client=make_client(), state="open", max_items=7)
    assert r.items == 7 and store.count() == 13
    with pytest.raises(InputError, match="--state must be one of"):
        fetch_repo(store, REPO, client=make_client(), state="merged")


def test_since_auto_fetches_only_updates_and_replaces_old_versions(gh, make_client, store):
    add_issues(gh, 120)
    fetch_repo(store, REPO, client=make_client())
    cursor = newest_updated(store, REPO)
    gh.update_issue(REPO, 7, title="Renamed", labels=["bug", "ui"])
    gh.update_issue(REPO, 3, labels=[])  # a label removed upstream
    gh.add_issue(REPO, 121, "brand new", None)
    r = fetch_repo(store, REPO, client=make_client(), since="auto")
    assert r.since == cursor
    assert gh.calls("GET", "/issues")[-1]["query"]["since"] == cursor
    # the boundary item (updated_at == cursor) comes again; nothing else old does
    assert r.items == 4 and r.inserted == 1 and r.updated == 2 and r.unchanged == 1
    assert store.count() == 121 and _numbers(store) == list(range(1, 122))
    assert store.get_item(REPO, 7).title == "Renamed" and store.get_item(REPO, 7).labels == ["bug", "ui"]
    assert store.get_item(REPO, 3).labels == []
    assert store.get_item(REPO, 121).body == ""  # null body


def test_since_iso_and_bad_since(gh, make_client, store):
    add_issues(gh, 10)
    items = sorted(gh.repos[REPO].issues.values(), key=lambda i: i["updated_at"])
    r = fetch_repo(store, REPO, client=make_client(), since=items[6]["updated_at"])
    assert r.items == 4
    assert resolve_since(store, REPO, "2024-01-01T02:00:00+02:00") == "2024-01-01T00:00:00Z"
    with pytest.raises(InputError, match="--since expects an ISO date"):
        fetch_repo(store, REPO, client=make_client(), since="yesterday")


def test_failure_mid_fetch_keeps_whole_pages_and_resume_completes(gh, make_client, store):
    add_issues(gh, 350, prs_every=4)
    gh.add_fault("/issues", query="page=3", status=500, times=-1)
    with pytest.raises(GitHubError, match="server error 500"):
        fetch_repo(store, REPO, client=make_client(max_attempts=2), comments=True)
    assert store.count() == 200  # pages 1 and 2, whole; page 3 never half-written
    gh.faults.clear()
    gh.update_issue(REPO, 5, title="edited while we were down")
    r = fetch_repo(store, REPO, client=make_client(), since="auto")
    assert r.items < 350  # continued, did not start over
    assert _numbers(store) == list(range(1, 351))  # every item exactly once
    assert store.get_item(REPO, 5).title == "edited while we were down"


def test_failure_in_comments_rolls_back_the_whole_page(gh, make_client, store):
    for i in range(1, 151):
        gh.add_issue(REPO, i, f"t{i}", "b", comments=["c"] if i == 120 else None)
    gh.add_fault("/issues/120/comments", status=502, times=-1)
    with pytest.raises(GitHubError):
        fetch_repo(store, REPO, client=make_client(max_attempts=2), comments=True)
    assert store.count() == 100  # the page holding #120 was not written at all
    gh.faults.clear()
    fetch_repo(store, REPO, client=make_client(), comments=True, since="auto")
    assert store.count() == 150 and [c["body"] for c in stored_comments(store, REPO, 120)] == ["c"]


def test_comments_are_paginated_and_refreshed(gh, make_client, store):
    gh.add_issue(REPO, 1, "many comments", "x", comments=[f"comment {k}" for k in range(230)])
    gh.add_issue(REPO, 2, "no comments", "y")
    r = fetch_repo(store, REPO, client=make_client(), comments=True)
    assert r.comments == 230
    got = stored_comments(store, REPO, 1)
    assert [c["body"] for c in got] == [f"comment {k}" for k in range(230)]
    assert len(gh.calls("GET", "/issues/1/comments")) == 3
    assert not gh.calls("GET", "/issues/2/comments")  # comments == 0: no request
    gh.add_comment(REPO, 1, "one more")
    r = fetch_repo(store, REPO, client=make_client(), comments=True, since="auto")
    assert len(stored_comments(store, REPO, 1)) == 231
    before = len(gh.calls("GET", "/comments"))
    fetch_repo(store, REPO, client=make_client(), comments=True)  # nothing changed upstream
    assert len(gh.calls("GET", "/comments")) == before  # unchanged issues: no comment requests
    assert len(stored_comments(store, REPO, 1)) == 231


def test_second_full_fetch_is_all_304(gh, make_client, store):
    add_issues(gh, 250)
    fetch_repo(store, REPO, client=make_client())
    used = gh.rate_limit - gh.remaining
    r = fetch_repo(store, REPO, client=make_client())
    assert (r.pages, r.not_modified, r.items) == (3, 3, 0)
    assert gh.rate_limit - gh.remaining == used  # no quota spent
    assert all(c["if_none_match"] for c in gh.calls("GET", "/issues")[-3:])
    assert store.count() == 250


def test_null_body_and_thousands_of_labels(gh, make_client, store):
    many = [f"label-{k:04d}" for k in range(3000)]
    gh.add_issue(REPO, 1, "null body", None)
    gh.add_issue(REPO, 2, "labelled to death", "x", labels=many)
    fetch_repo(store, REPO, client=make_client())
    assert store.get_item(REPO, 1).body == "" and store.get_item(REPO, 1).text == "null body"
    assert store.get_item(REPO, 2).labels == many


def test_unknown_repo_and_bad_name(gh, make_client, store):
    with pytest.raises(GitHubNotFoundError, match=r"repository nobody/nothing not found at http://127.0.0.1"):
        fetch_repo(store, "nobody/nothing", client=make_client())
    with pytest.raises(InputError, match="OWNER/NAME"):
        fetch_repo(store, "not-a-repo", client=make_client())
    assert store.count() == 0


def test_issue_updated_between_pages_does_not_make_another_slip(gh, make_client, store):
    add_issues(gh, 250)
    # after page 1 was read, #5 is edited: it moves to the end of the list and every later
    # issue shifts back one place, so #101 would fall between pages 1 and 2
    gh.add_fault("/issues", query="page=2", kind="call", call=lambda: gh.update_issue(REPO, 5, title="moved"))
    r = fetch_repo(store, REPO, client=make_client())
    assert r.resyncs == 1
    assert _numbers(store) == list(range(1, 251))
    assert store.get_item(REPO, 5).title == "moved"


def test_comments_asked_later_are_fetched_despite_cached_pages(gh, make_client, store):
    gh.add_issue(REPO, 1, "t", "b", comments=["first", "second"])
    fetch_repo(store, REPO, client=make_client())
    assert stored_comments(store, REPO, 1) == []
    r = fetch_repo(store, REPO, client=make_client(), comments=True)
    assert r.not_modified == 0 and [c["body"] for c in stored_comments(store, REPO, 1)] == ["first", "second"]
    r = fetch_repo(store, REPO, client=make_client(), comments=True)
    assert r.not_modified == 1  # now the page is cached with its comments
    r = fetch_repo(store, REPO, client=make_client())
    assert r.not_modified == 1
