"""The GitHub client, through real HTTP against the fake server."""

from __future__ import annotations

import socket

import pytest

from fewtag.errors import GitHubAuthError, GitHubError, GitHubNotFoundError
from fewtag.github.client import GitHubClient, api_url_from_env, parse_link_header
from tests.github.conftest import REPO, add_issues
from tests.github.fake_github import TOKEN


def test_pagination_follows_link_with_per_page_100(gh, make_client):
    add_issues(gh, 250)
    client = make_client()
    pages = list(client.paginate(f"/repos/{REPO}/issues", {"state": "all"}))
    assert [len(p.data) for p in pages] == [100, 100, 50]
    numbers = [i["number"] for p in pages for i in p.data]
    assert sorted(numbers) == list(range(1, 251))
    calls = gh.calls("GET", "/issues")
    assert [c["query"].get("page", "1") for c in calls] == ["1", "2", "3"]
    assert all(c["query"]["per_page"] == "100" for c in calls)
    c = calls[0]
    assert c["accept"] == "application/vnd.github+json"
    assert c["api_version"] and c["auth"] == f"Bearer {TOKEN}"


def test_link_header_parser():
    links = parse_link_header('<http://a/x?page=3>; rel="next", <http://a/x?page=9>; rel="last"')
    assert links == {"next": "http://a/x?page=3", "last": "http://a/x?page=9"}
    assert parse_link_header(None) == {} and parse_link_header("garbage") == {}


def test_primary_rate_limit_waits_until_reset_with_countdown(gh, make_client, sleeps):
    add_issues(gh, 4)
    gh.add_fault("/issues", kind="exhaust")  # the server's quota is spent before this request
    countdown = []
    client = make_client(on_wait=lambda left, reason: countdown.append((left, reason)))
    resp = client.get(f"/repos/{REPO}/issues")
    assert resp.status == 200 and len(resp.data) == 4
    waited = sum(sleeps)
    assert 3000 < waited < 3700  # until X-RateLimit-Reset (an hour on the fake clock), not longer
    assert countdown[0][0] == pytest.approx(waited, abs=1.5)
    assert "rate limit" in countdown[0][1] and countdown[-1][0] == 0.0
    assert client.rate.remaining == gh.rate_limit - 1  # refilled by the reset


def test_remaining_zero_waits_before_next_request(gh, make_client, sleeps):
    gh.rate_limit = gh.remaining = 2
    add_issues(gh, 3)
    client = make_client()
    client.get(f"/repos/{REPO}/issues")
    client.get(f"/repos/{REPO}/issues")
    assert client.rate.remaining == 0 and not sleeps
    client.get(f"/repos/{REPO}/issues")  # waits first instead of burning a 403
    assert sum(sleeps) > 3000
    assert [c for c in gh.calls() if c["path"].endswith("/issues")].__len__() == 3


def test_rate_wait_longer_than_allowed_is_an_error(gh, make_client):
    add_issues(gh, 1)
    gh.add_fault("/issues", kind="exhaust")
    client = make_client(max_rate_wait=60)
    with pytest.raises(GitHubError, match="more than the allowed 60 s"):
        client.get(f"/repos/{REPO}/issues")


@pytest.mark.parametrize("status", [429, 403])
def test_secondary_rate_limit_honours_retry_after(gh, make_client, sleeps, status):
    add_issues(gh, 3)
    gh.add_fault("/issues", status=status, retry_after=7, times=2)
    resp = make_client().get(f"/repos/{REPO}/issues")
    assert len(resp.data) == 3
    assert sum(sleeps) == pytest.approx(14)
    assert len(gh.calls("GET", "/issues")) == 3


def test_5xx_is_retried_with_growing_backoff(gh, make_client, sleeps):
    add_issues(gh, 3)
    gh.add_fault("/issues", status=502, times=2)
    gh.add_fault("/issues", status=503, times=1)
    resp = make_client(backoff=1.0, max_attempts=5).get(f"/repos/{REPO}/issues")
    assert len(resp.data) == 3
    # three waits: 1-2 s, 2-4 s, 4-8 s (exponential with jitter), slept in <= 1 s steps
    assert 7 <= sum(sleeps) <= 14
    assert max(sleeps) <= 1.0


def test_5xx_forever_gives_up_with_one_line(gh, make_client):
    add_issues(gh, 3)
    gh.add_fault("/issues", status=500, times=-1)
    with pytest.raises(GitHubError) as err:
        make_client(max_attempts=3).get(f"/repos/{REPO}/issues")
    msg = str(err.value)
    assert "after 3 attempts" in msg and "server error 500" in msg and "\n" not in msg
    assert len(gh.calls("GET", "/issues")) == 3


def test_page_that_times_out_is_retried(gh, make_client):
    add_issues(gh, 3)
    gh.add_fault("/issues", kind="slow", delay=1.5, times=1)
    resp = make_client(timeout=0.3).get(f"/repos/{REPO}/issues")
    assert len(resp.data) == 3 and len(gh.calls("GET", "/issues")) == 2


def test_timeouts_forever_give_a_clear_error(gh, make_client):
    add_issues(gh, 1)
    gh.add_fault("/issues", kind="slow", delay=1.0, times=-1)
    with pytest.raises(GitHubError, match=r"after 2 attempts: timed out after 0.2 s"):
        make_client(timeout=0.2, max_attempts=2).get(f"/repos/{REPO}/issues")


def test_truncated_json_is_retried_then_reported(gh, make_client):
    add_issues(gh, 3)
    gh.add_fault("/issues", kind="truncated", times=1)
    assert len(make_client().get(f"/repos/{REPO}/issues").data) == 3
    gh.add_fault("/issues", kind="truncated", times=-1)
    with pytest.raises(GitHubError, match="invalid or truncated JSON"):
        make_client(max_attempts=2).get(f"/repos/{REPO}/issues")


def test_404_401_and_403(gh, make_client):
    gh.add_repo(REPO)
    with pytest.raises(GitHubNotFoundError) as err:
        make_client().get("/repos/nobody/nothing/issues")
    assert err.value.status == 404
    with pytest.raises(GitHubAuthError, match=r"401 Bad credentials.*\$GITHUB_TOKEN") as err:
        make_client(token="wrong-token").get(f"/repos/{REPO}/issues")
    assert "wrong-token" not in str(err.value)
    gh.add_fault("/issues", status=403, times=1)  # no Retry-After and quota left: a permission problem
    with pytest.raises(GitHubAuthError, match="forbidden"):
        make_client().get(f"/repos/{REPO}/issues")


def test_network_down(make_client):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = GitHubClient(TOKEN, f"http://127.0.0.1:{port}", max_attempts=2, backoff=0.01)
    with pytest.raises(GitHubError, match=r"failed after 2 attempts: network error .* reaching 127.0.0.1"):
        client.get(f"/repos/{REPO}/issues")
    client.close()


def test_etag_gives_304_without_quota(gh, make_client):
    add_issues(gh, 3)
    client = make_client()
    first = client.get(f"/repos/{REPO}/issues")
    used = gh.rate_limit - gh.remaining
    again = client.get(f"/repos/{REPO}/issues", etag=first.etag)
    assert again.not_modified and again.data is None
    assert gh.rate_limit - gh.remaining == used  # a 304 costs nothing
    gh.update_issue(REPO, 2, title="changed")
    changed = client.get(f"/repos/{REPO}/issues", etag=first.etag)
    assert changed.status == 200 and changed.etag != first.etag


def test_link_to_another_host_is_refused(make_client):
    client = make_client()
    with pytest.raises(GitHubError, match="refusing to follow"):
        client.get("http://evil.example.com/steal")


def test_api_url_from_env(monkeypatch):
    monkeypatch.setenv("GITHUB_API_URL", "http://ghe.local/api/v3/")
    assert api_url_from_env() == "http://ghe.local/api/v3"
    assert api_url_from_env("http://x:1") == "http://x:1"
    monkeypatch.delenv("GITHUB_API_URL")
    assert api_url_from_env() == "https://api.github.com"
    with pytest.raises(GitHubError, match="must start with http"):
        api_url_from_env("ftp://x")


def test_secondary_limit_403_without_retry_after_waits_a_minute(gh, make_client, sleeps):
    add_issues(gh, 2)
    gh.add_fault("/issues", status=403, message="You have exceeded a secondary rate limit.")
    resp = make_client().get(f"/repos/{REPO}/issues")
    assert len(resp.data) == 2 and sum(sleeps) == pytest.approx(60)


def test_503_with_retry_after_waits_that_long(gh, make_client, sleeps):
    add_issues(gh, 2)
    gh.add_fault("/issues", status=503, retry_after=3)
    assert len(make_client(backoff=0.01).get(f"/repos/{REPO}/issues").data) == 2
    assert sum(sleeps) == pytest.approx(3)
