"""Fixtures: a fake GitHub server on loopback and clients pointed at it."""

from __future__ import annotations

import pytest

from tests.github.fake_github import TOKEN, FakeGitHub

REPO = "octo/widgets"


@pytest.fixture
def gh():
    """A running fake GitHub with no issues yet (``gh.url`` is the API base)."""
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def make_client(gh, sleeps):
    """Clients on the fake server whose sleeps advance the server's clock (no real waiting)."""
    from fewtag.github.client import GitHubClient

    made = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        gh.advance(seconds)

    def make(token: str | None = TOKEN, **kwargs):
        opts = {"timeout": 2.0, "max_attempts": 4, "backoff": 0.01, "sleep": sleep, "clock": gh.now}
        opts.update(kwargs)
        client = GitHubClient(token, gh.url, **opts)
        made.append(client)
        return client

    yield make
    for c in made:
        c.close()


@pytest.fixture
def store(tmp_path):
    from fewtag.data.store import Store

    with Store(tmp_path / "fewtag.db") as s:
        yield s


def add_issues(gh: FakeGitHub, n: int, repo: str = REPO, *, start: int = 1, prs_every: int = 0, labels=None) -> None:
    """``n`` issues numbered from ``start``; every ``prs_every``-th is a pull request."""
    for i in range(start, start + n):
        gh.add_issue(
            repo,
            i,
            f"Issue {i}: widget crashes",
            f"body of {i}",
            labels=labels(i) if callable(labels) else (["bug"] if i % 3 == 0 else []),
            is_pr=bool(prs_every) and i % prs_every == 0,
            state="closed" if i % 5 == 0 else "open",
        )
