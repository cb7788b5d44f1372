"""A small, careful client for the GitHub REST API.

It does what long fetches need and nothing more: ``Link`` pagination,
``per_page=100``, the primary rate limit (sleep until ``X-RateLimit-Reset``
with a visible countdown), secondary limits (403/429 with ``Retry-After``),
bounded retries with exponential backoff and jitter on 5xx, timeouts,
connection errors and truncated JSON, and conditional requests
(``If-None-Match``: a 304 costs no quota).

The token is read from an environment variable and kept in one private
attribute. It is never printed, logged, stored or put into an error message.

This module holds the API calls (``get``, ``post``, ``patch``, pagination); the transport under
them is :mod:`fewtag.github.transport`, the response types :mod:`fewtag.github.response`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from fewtag.errors import GitHubError
from fewtag.github.env import API_VERSION, DEFAULT_API_URL, api_url_from_env, token_from_env
from fewtag.github.response import RateLimit, Response, parse_link_header, short_url
from fewtag.github.transport import Transport

__all__ = [
    "GitHubClient",
    "Response",
    "RateLimit",
    "DEFAULT_API_URL",
    "API_VERSION",
    "token_from_env",
    "api_url_from_env",
    "parse_link_header",
]


class GitHubClient(Transport):
    """Synchronous GitHub REST client on ``httpx``.

    Parameters
    ----------
    token : str, optional
        A token; ``None`` for anonymous requests (60 per hour on github.com).
        Prefer :meth:`from_env`.
    api_url : str, optional
        Base URL; default ``$GITHUB_API_URL`` or https://api.github.com.
    timeout : float
        Seconds per request (connect and read).
    max_attempts : int
        Attempts per request for retryable failures (5xx, timeouts,
        connection errors, truncated JSON, secondary limits).
    backoff : float
        First backoff in seconds; doubles each attempt, plus up to 100% jitter,
        capped at ``max_backoff``.
    max_rate_wait : float
        The longest single wait for a rate limit reset or ``Retry-After``; a
        longer one raises :class:`GitHubError` instead of hanging.
    sleep, clock : callables
        Injected in tests (defaults ``time.sleep`` and ``time.time``).
    on_wait : callable, optional
        ``on_wait(seconds_left, reason)`` called about once a second while
        waiting, for a visible countdown.
    token_env : str
        Name of the variable the token came from, used only in messages.

    Examples
    --------
    >>> c = GitHubClient(token="secret", api_url="http://127.0.0.1:9")
    >>> "secret" in repr(c)
    False
    """

    @classmethod
    def from_env(cls, token_env: str = "GITHUB_TOKEN", api_url: str | None = None, **kwargs: Any) -> GitHubClient:
        """A client whose token comes from ``$token_env`` and URL from ``--api-url``/env.

        ``FEWTAG_GITHUB_TIMEOUT``, ``FEWTAG_GITHUB_ATTEMPTS`` and ``FEWTAG_GITHUB_BACKOFF``
        override the defaults of ``timeout``, ``max_attempts`` and ``backoff``.
        """
        for key, env, kind in (
            ("timeout", "FEWTAG_GITHUB_TIMEOUT", float),
            ("max_attempts", "FEWTAG_GITHUB_ATTEMPTS", int),
            ("backoff", "FEWTAG_GITHUB_BACKOFF", float),
        ):
            raw = os.environ.get(env)
            if raw and key not in kwargs:
                try:
                    kwargs[key] = kind(raw)
                except ValueError:
                    raise GitHubError(f"${env} must be a number; got {raw!r}") from None
        return cls(token_from_env(token_env), api_url, token_env=token_env, **kwargs)

    # ------------------------------------------------------------- API calls
    def get(self, path: str, params: Mapping[str, Any] | None = None, etag: str | None = None) -> Response:
        return self.request("GET", path, params=params, etag=etag)

    def post(self, path: str, body: Any) -> Response:
        return self.request("POST", path, json_body=body)

    def patch(self, path: str, body: Any) -> Response:
        """``PATCH`` (edit a comment: ``/repos/{o}/{r}/issues/comments/{id}``)."""
        return self.request("PATCH", path, json_body=body)

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None, max_pages: int = 100_000
    ) -> Iterator[Response]:
        """Yield each page of a list endpoint, following ``Link: rel="next"``.

        ``per_page=100`` is added unless given.
        """
        params = {"per_page": 100, **(params or {})}
        url: str | None = self.url(path, params)
        seen: set[str] = set()
        for _ in range(max_pages):
            if url is None:
                return
            if url in seen:
                raise GitHubError(f"pagination loops back to {short_url(url)}")
            seen.add(url)
            page = self.get(url)
            if not isinstance(page.data, list):
                raise GitHubError(f"GET {short_url(url)}: expected a JSON list, got {type(page.data).__name__}")
            yield page
            url = page.next_url

    def get_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every element of a paginated list endpoint."""
        out: list[Any] = []
        for page in self.paginate(path, params):
            out.extend(page.data)
        return out
