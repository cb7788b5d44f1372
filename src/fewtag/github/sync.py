"""Fetch a repository's issues (and comments) into the store, resumably.

``GET /repos/{owner}/{repo}/issues?state=..&sort=updated&direction=asc&since=..``
is read page by page (``Link`` pagination, 100 per page). Each page, its
comments, its ``ETag`` and the cursor are written in **one transaction**, so a
kill at any moment leaves whole pages only; because pages come oldest-update
first, ``since="auto"`` (the newest ``updated_at`` stored for the repo)
continues exactly where the last committed page ended. Items are keyed by
``(repo, number)``, so a rerun replaces instead of duplicating.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fewtag.data.importers import github_item
from fewtag.data.store import Item, Store, upsert_rows
from fewtag.errors import GitHubError, GitHubNotFoundError, InputError
from fewtag.github.client import GitHubClient
from fewtag.github.names import api_path, parse_repo
from fewtag.github.tables import ensure_tables, get_etag, now_iso

__all__ = ["fetch_repo", "FetchResult", "parse_repo", "resolve_since", "newest_updated", "STATES", "SOURCE"]

STATES = ("all", "open", "closed")
SOURCE = "github-api"
_MAX_PASSES = 4
_WITH_COMMENTS = "#with-comments"  # http_cache key suffix: the page was stored with its comments


@dataclass
class FetchResult:
    """What one :func:`fetch_repo` call did (also passed to ``on_page``)."""

    repo: str
    since: str | None = None
    pages: int = 0
    not_modified: int = 0
    items: int = 0
    issues: int = 0
    prs: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # upstream versions older than the stored row: kept the stored
    comments: int = 0
    requests: int = 0
    rate_remaining: int | None = None
    rate_limit: int | None = None
    newest: str | None = None
    resyncs: int = 0
    label_events: int = 0


def newest_updated(store: Store, repo: str) -> str | None:
    """The newest ``updated_at`` stored for ``repo`` (``None`` when there is none)."""
    return store.newest_updated(repo)


def resolve_since(store: Store, repo: str, since: str | None) -> str | None:
    """``None`` → ``None``; ``"auto"`` → :func:`newest_updated`; an ISO date/time → normalised UTC.

    >>> resolve_since(Store(":memory:"), "o/r", "2024-03-01")
    '2024-03-01T00:00:00Z'
    """
    if since is None or since == "":
        return None
    if since == "auto":
        return newest_updated(store, repo)
    try:
        when = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--since expects an ISO date or time (2024-03-01, 2024-03-01T12:00:00Z) or 'auto'; got {since!r}"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch_repo(
    store: Store,
    repo: str,
    *,
    client: GitHubClient | None = None,
    since: str | None = None,
    comments: bool = False,
    state: str = "all",
    max_items: int | None = None,
    on_page: Callable[[FetchResult], None] | None = None,
    token_env: str = "GITHUB_TOKEN",
    api_url: str | None = None,
    events: bool = False,
) -> FetchResult:
    """Fetch issues and pull requests of ``repo`` into ``store``.

    Parameters
    ----------
    store : Store
    repo : str
        ``OWNER/NAME``.
    client : GitHubClient, optional
        Default: :meth:`GitHubClient.from_env` with ``token_env`` and ``api_url``.
    since : None, "auto" or ISO time
        Only issues updated at or after this time. ``"auto"`` continues from the
        newest ``updated_at`` already stored for the repo (a full fetch when none).
    comments : bool
        Also fetch every issue's comments (paginated) into the ``comments`` table.
    state : {"all", "open", "closed"}
    max_items : int, optional
        Stop after this many issues/PRs (whole pages are still written atomically).
    on_page : callable, optional
        Called with the running :class:`FetchResult` after each committed page.
    events : bool
        Also read the label events (timeline), the reactions on fewtag's comment and the
        repository's labels of the issues updated since ``since``, for ``fewtag feedback``
        (:func:`fewtag.github.events.fetch_feedback`; the count is in ``result.label_events``).

    Returns
    -------
    FetchResult

    Raises
    ------
    GitHubNotFoundError
        The repository does not exist or the token cannot see it.
    GitHubError, GitHubAuthError
        Network down, bad token, or errors retries could not fix. Pages already
        committed stay; rerun (with ``since="auto"``) to continue.
    """
    owner, name = parse_repo(repo)
    repo = f"{owner}/{name}"
    if state not in STATES:
        raise InputError(f"--state must be one of {', '.join(STATES)}; got {state!r}")
    if max_items is not None and max_items < 1:
        raise InputError(f"--max must be at least 1; got {max_items}")
    ensure_tables(store)
    since_value = resolve_since(store, repo, since)
    own_client = client is None
    if client is None:
        client = GitHubClient.from_env(token_env, api_url)
    result = FetchResult(repo=repo, since=since_value)
    start_requests = client.requests_made
    try:
        pass_since = since_value
        for _ in range(_MAX_PASSES):
            resync_from = _fetch_pass(
                client,
                store,
                repo,
                owner,
                name,
                pass_since,
                state,
                comments,
                max_items,
                result,
                start_requests,
                on_page,
            )
            if resync_from is None:
                break
            # An issue we had already read was updated mid-fetch and moved to the end of the
            # list, shifting later pages back by one: an item may have slipped between pages.
            # Everything that can have slipped was updated at or after its old position.
            result.resyncs += 1
            pass_since = resync_from
        if events:
            from fewtag.github.events import fetch_feedback

            result.label_events = fetch_feedback(client, store, repo, since=since_value).events
    finally:
        result.requests = client.requests_made - start_requests
        if own_client:
            client.close()
    return result


def _fetch_pass(
    client: GitHubClient,
    store: Store,
    repo: str,
    owner: str,
    name: str,
    since: str | None,
    state: str,
    comments: bool,
    max_items: int | None,
    result: FetchResult,
    start_requests: int,
    on_page: Callable[[FetchResult], None] | None,
) -> str | None:
    """One walk over the issue list; returns a ``since`` to walk again from, or ``None``."""
    params: dict[str, Any] = {"state": state, "sort": "updated", "direction": "asc", "per_page": 100}
    if since:
        params["since"] = since
    url: str | None = client.url(api_path("repos", owner, name, "issues"), params)
    seen: set[str] = set()
    read: dict[int, str] = {}  # number -> updated_at, as read in this pass
    resync_from: str | None = None
    while url is not None and len(seen) < 1_000_000:
        if url in seen:
            raise GitHubError(f"pagination of {repo} loops back to the same page")
        seen.add(url)
        # a page stored without its comments is not "unchanged" for a fetch that wants them
        cached = get_etag(store, url + _WITH_COMMENTS if comments else url)
        try:
            page = client.get(url, etag=cached[0] if cached else None)
        except GitHubNotFoundError:
            if result.pages == 0:
                raise GitHubNotFoundError(
                    f"repository {repo} not found at {client.api_url} (or the token cannot see it)", 404
                ) from None
            raise
        if page.not_modified and cached is not None:
            # Unchanged since we stored it: its items are already in the store.
            result.pages += 1
            result.not_modified += 1
            url = cached[1]
            _report(result, client, start_requests, on_page)
            continue
        if not isinstance(page.data, list):
            raise GitHubError(f"GET issues of {repo}: expected a JSON list, got {type(page.data).__name__}")
        objs = [o for o in page.data if isinstance(o, dict) and "number" in o]
        complete = True
        if max_items is not None and result.items + len(objs) >= max_items:
            complete = result.items + len(objs) == max_items and page.next_url is None
            objs = objs[: max_items - result.items]
        for o in objs:
            number, updated = int(o["number"]), str(o.get("updated_at") or "")
            old = read.get(number)
            if old is not None and old != updated and (resync_from is None or old < resync_from):
                resync_from = old
            read[number] = updated
        items = [github_item(o, repo, source=SOURCE) for o in objs]
        fetched_comments = _fetch_comments(client, store, owner, name, objs) if comments else {}
        _write_page(
            store,
            repo,
            items,
            fetched_comments,
            page_url=url,
            etag=page.etag if complete else None,
            with_comments=comments,
            next_url=page.next_url,
            result=result,
        )
        result.pages += 1
        _report(result, client, start_requests, on_page)
        if max_items is not None and result.items >= max_items:
            return None
        url = page.next_url
    return resync_from


def _report(
    result: FetchResult, client: GitHubClient, start: int, on_page: Callable[[FetchResult], None] | None
) -> None:
    result.requests = client.requests_made - start
    result.rate_remaining, result.rate_limit = client.rate.remaining, client.rate.limit
    if on_page is not None:
        on_page(result)


def _fetch_comments(
    client: GitHubClient, store: Store, owner: str, name: str, objs: list[dict[str, Any]]
) -> dict[str, tuple[list[dict[str, Any]] | None, str | None, str]]:
    """``issue id -> (comments or None when unchanged (304), etag, url)`` for a page."""
    out: dict[str, tuple[list[dict[str, Any]] | None, str | None, str]] = {}
    for obj in objs:
        number = int(obj["number"])
        if not obj.get("comments"):
            out[str(number)] = ([], None, "")
            continue
        have = store.comment_count(f"{owner}/{name}", number)
        stored, old_updated = store.item_updated_at(f"{owner}/{name}", number)
        if stored and old_updated == obj.get("updated_at") and have == obj.get("comments"):
            out[str(number)] = (None, None, "")  # issue unchanged (a new comment bumps updated_at)
            continue
        first = client.url(api_path("repos", owner, name, "issues", number, "comments"), {"per_page": 100})
        cached = get_etag(store, first)
        # the first page's ETag says nothing about later pages: only used for one-page lists
        resp = client.get(first, etag=cached[0] if cached else None)
        if resp.not_modified and cached is not None:
            out[str(number)] = (None, None, first)
            continue
        if not isinstance(resp.data, list):
            raise GitHubError(f"comments of #{number}: expected a JSON list")
        found = list(resp.data)
        nxt, pages = resp.next_url, 1
        while nxt is not None and pages < 10_000:
            more = client.get(nxt)
            if not isinstance(more.data, list):
                raise GitHubError(f"comments of #{number}: expected a JSON list")
            found.extend(more.data)
            nxt, pages = more.next_url, pages + 1
        out[str(number)] = (found, resp.etag if pages == 1 else None, first)
    return out


def _write_page(
    store: Store,
    repo: str,
    items: list[Item],
    fetched_comments: dict[str, tuple[list[dict[str, Any]] | None, str | None, str]],
    *,
    page_url: str,
    etag: str | None,
    next_url: str | None,
    result: FetchResult,
    with_comments: bool = False,
) -> None:
    """Items, comments, ETags and the cursor of one page: all or nothing."""
    with store.transaction() as conn:
        counts = upsert_rows(conn, items)
        result.inserted += counts.inserted
        result.updated += counts.updated
        result.unchanged += counts.unchanged
        result.older += counts.older
        for item in items:
            result.items += 1
            result.prs += item.is_pr
            result.issues += not item.is_pr
            if item.updated_at and (result.newest is None or item.updated_at > result.newest):
                result.newest = item.updated_at
        for issue_id, (found, c_etag, c_url) in fetched_comments.items():
            if found is None:  # 304: stored comments are current
                continue
            result.comments += store.replace_comments(conn, repo, issue_id, found)
            if c_url:
                store.drop_etag(conn, c_url)
                store.put_etag(conn, c_url, c_etag, None)
        store.put_etag(conn, page_url, etag, next_url)
        if with_comments:
            store.put_etag(conn, page_url + _WITH_COMMENTS, etag, next_url)
        store.put_meta(conn, f"github:{repo}:synced_at", now_iso())
        if result.newest:
            store.put_meta(conn, f"github:{repo}:cursor", result.newest)


def stored_comments(store: Store, repo: str, issue_id: str | int) -> list[dict[str, Any]]:
    """The stored comments of one issue, oldest first."""
    ensure_tables(store)
    return store.stored_comments(repo, issue_id)
