"""A small, careful client for the GitHub REST API.

It does what long fetches need and nothing more: ``Link`` pagination,
``per_page=100``, the primary rate limit (sleep until ``X-RateLimit-Reset``
with a visible countdown), secondary limits (403/429 with ``Retry-After``),
bounded retries with exponential backoff and jitter on 5xx, timeouts,
connection errors and truncated JSON, and conditional requests
(``If-None-Match``: a 304 costs no quota).

The token is read from an environment variable and kept in one private
attribute. It is never printed, logged, stored or put into an error message.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from fewtag.errors import GitHubAuthError, GitHubError, GitHubNotFoundError, MissingDependencyError

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

log = logging.getLogger("fewtag.github")

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
#: Called while waiting: ``on_wait(seconds_left, reason)``.
WaitCallback = Callable[[float, str], None]


def token_from_env(name: str = "GITHUB_TOKEN") -> str | None:
    """The token in environment variable ``name`` (``None`` when unset or empty)."""
    value = os.environ.get(name, "").strip()
    return value or None


def api_url_from_env(api_url: str | None = None) -> str:
    """``api_url`` if given, else ``$GITHUB_API_URL``, else https://api.github.com."""
    url = api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    if not url.startswith(("http://", "https://")):
        raise GitHubError(f"the API URL must start with http:// or https://; got {url!r}")
    return url.rstrip("/")


def parse_link_header(value: str | None) -> dict[str, str]:
    """``'<u1>; rel="next", <u2>; rel="last"'`` → ``{"next": "u1", "last": "u2"}``.

    >>> parse_link_header('<https://x/i?page=2>; rel="next", <https://x/i?page=5>; rel="last"')
    {'next': 'https://x/i?page=2', 'last': 'https://x/i?page=5'}
    """
    links: dict[str, str] = {}
    if not value:
        return links
    for part in value.split(","):
        pieces = part.strip().split(";")
        url = pieces[0].strip()
        if not (url.startswith("<") and url.endswith(">")):
            continue
        for param in pieces[1:]:
            key, _, val = param.strip().partition("=")
            if key.strip() == "rel":
                for rel in val.strip().strip('"').split():
                    links[rel] = url[1:-1]
    return links


@dataclass
class RateLimit:
    """The last primary rate-limit headers seen (``None`` until a response)."""

    limit: int | None = None
    remaining: int | None = None
    reset: float | None = None
    used: int | None = None

    def update(self, headers: Mapping[str, str]) -> None:
        def num(key: str) -> int | None:
            raw = headers.get(key)
            try:
                return int(float(raw)) if raw is not None else None
            except ValueError:
                return None

        if (remaining := num("x-ratelimit-remaining")) is not None:
            self.remaining = remaining
            self.limit = num("x-ratelimit-limit")
            reset = num("x-ratelimit-reset")
            self.reset = float(reset) if reset is not None else None
            self.used = num("x-ratelimit-used")


@dataclass
class Response:
    """A decoded response: ``data`` is the JSON (``None`` for 304/204)."""

    status: int
    url: str
    data: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def next_url(self) -> str | None:
        return parse_link_header(self.headers.get("link")).get("next")


class _Secret:
    """Holds the token; its ``repr``/``str`` never show it (tracebacks with locals, ``vars``)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<secret>"

    __str__ = __repr__


class _Retry(Exception):
    """Internal: this attempt failed in a way a retry can help."""

    def __init__(self, reason: str, wait: float | None = None):
        super().__init__(reason)
        self.reason, self.wait = reason, wait


class GitHubClient:
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

    def __init__(
        self,
        token: str | None = None,
        api_url: str | None = None,
        *,
        timeout: float = 30.0,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_rate_wait: float = 3700.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        on_wait: WaitCallback | None = None,
        token_env: str = "GITHUB_TOKEN",
        user_agent: str = "fewtag",
    ):
        try:
            import httpx
        except ImportError as exc:  # pragma: no cover - httpx ships with fewtag[serve]
            raise MissingDependencyError("httpx is needed to talk to GitHub: pip install 'fewtag[github]'") from exc
        self.api_url = api_url_from_env(api_url)
        self.timeout = timeout
        self.max_attempts = max(1, int(max_attempts))
        self.backoff, self.max_backoff, self.max_rate_wait = backoff, max_backoff, max_rate_wait
        self.sleep, self.clock, self.on_wait = sleep, clock, on_wait
        self.token_env = token_env
        self.rate = RateLimit()
        self.requests_made = 0
        self.__token = _Secret(token) if token else None
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": user_agent,
        }
        self._httpx = httpx
        self._http = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout), follow_redirects=True)

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

    # --------------------------------------------------------------- plumbing
    @property
    def authenticated(self) -> bool:
        return self.__token is not None

    def __repr__(self) -> str:
        auth = "token" if self.__token else "anonymous"
        return f"GitHubClient({self.api_url!r}, {auth})"

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        """Absolute URL for an API path (``/repos/o/r/issues``) with query parameters.

        Build ``path`` with :func:`fewtag.github.names.api_path` (each segment quoted). A path
        with a ``.`` or ``..`` segment or a ``#`` is refused: joined to the base URL,
        it could reach another endpoint than the one named.
        """
        if path.startswith(("http://", "https://")):
            url = path
        else:
            segments = path.split("?", 1)[0].strip("/").split("/")
            if any(seg in (".", "..") for seg in segments) or "#" in path:
                raise GitHubError(f"refusing the API path {path!r}: it has a '.', '..' or '#' part")
            url = urljoin(self.api_url + "/", path.lstrip("/"))
        if params:
            query = urlencode({k: v for k, v in params.items() if v is not None})
            url += ("&" if "?" in url else "?") + query
        return url

    def _check_same_host(self, url: str) -> None:
        """Never send the token to another host (a ``Link`` header could point anywhere)."""
        if urlsplit(url).netloc != urlsplit(self.api_url).netloc:
            raise GitHubError(f"refusing to follow {url}: it is not on {self.api_url}")

    def _wait(self, seconds: float, reason: str) -> None:
        """Sleep ``seconds`` in steps of at most one second, reporting the countdown."""
        if seconds > self.max_rate_wait:
            raise GitHubError(
                f"{reason}: would have to wait {seconds:.0f} s, more than the "
                f"allowed {self.max_rate_wait:.0f} s; try again later"
            )
        left = max(0.0, seconds)
        log.info("%s: waiting %.1f s", reason, left)
        steps = 0
        while left > 0 and steps < 100_000:
            if self.on_wait is not None:
                self.on_wait(left, reason)
            step = min(1.0, left)
            self.sleep(step)
            left -= step
            steps += 1
        if self.on_wait is not None:
            self.on_wait(0.0, reason)

    def _wait_for_reset(self, reason: str) -> None:
        reset = self.rate.reset
        seconds = (reset - self.clock() + 1.0) if reset is not None else 60.0
        self._wait(max(1.0, seconds), reason)
        self.rate.remaining = None  # unknown until the next response

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base + random.uniform(0, base)

    # ---------------------------------------------------------------- request
    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        etag: str | None = None,
    ) -> Response:
        """One API call with rate-limit waits and bounded retries.

        Parameters
        ----------
        etag : str, optional
            Sent as ``If-None-Match``; a 304 answer has ``not_modified`` set.

        Raises
        ------
        GitHubAuthError
            401 (bad token) or 403 without a rate limit.
        GitHubNotFoundError
            404.
        GitHubError
            Anything else that retries could not fix, in one line.
        """
        url = self.url(path, params)
        self._check_same_host(url)
        headers = {}
        if self.__token:
            headers["Authorization"] = f"Bearer {self.__token.reveal()}"
        if etag:
            headers["If-None-Match"] = etag
        where = f"{method} {_short(url)}"
        last = "no attempt made"
        for attempt in range(1, self.max_attempts + 1):
            if self.rate.remaining == 0 and self.rate.reset is not None and self.clock() < self.rate.reset:
                self._wait_for_reset("primary rate limit reached")
            try:
                return self._attempt(method, url, headers, json_body, where)
            except _Retry as retry:
                last = retry.reason
                if attempt == self.max_attempts:
                    break
                wait = retry.wait if retry.wait is not None else self._backoff(attempt)
                log.info("%s: %s; retry %d/%d in %.1f s", where, retry.reason, attempt, self.max_attempts - 1, wait)
                self._wait(wait, f"{retry.reason}, retrying")
        raise GitHubError(f"{where} failed after {self.max_attempts} attempts: {last}")

    def _attempt(self, method: str, url: str, headers: dict[str, str], json_body: Any, where: str) -> Response:
        httpx = self._httpx
        try:
            resp = self._http.request(method, url, headers=headers, json=json_body)
            body = resp.content  # read fully inside the try: a cut stream is a transport error
        except httpx.TimeoutException:
            raise _Retry(f"timed out after {self.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise _Retry(f"network error ({_exc_line(exc)}) reaching {urlsplit(url).netloc}") from None
        self.requests_made += 1
        hdrs = {k.lower(): v for k, v in resp.headers.items()}
        self.rate.update(hdrs)
        status = resp.status_code
        log.debug("%s -> %d (remaining %s)", where, status, self.rate.remaining)
        if status == 304:
            return Response(304, url, None, hdrs)
        if status in (403, 429):
            wait = _seconds(hdrs.get("retry-after"))
            if wait is not None:
                raise _Retry(f"secondary rate limit ({status}, Retry-After {wait:g} s)", wait)
            if self.rate.remaining == 0:
                self._wait_for_reset("primary rate limit exceeded")
                raise _Retry("primary rate limit exceeded", 0.0)
            if status == 429:
                raise _Retry("too many requests (429)")
            if "rate limit" in _message(body).lower():  # a secondary limit without Retry-After
                raise _Retry("secondary rate limit (403, no Retry-After)", 60.0)
            raise GitHubAuthError(
                f"{where}: forbidden (403): {_message(body)}; check that ${self.token_env} may read this repository",
                403,
            )
        if status == 401:
            src = f"${self.token_env}" if self.__token else f"no token (set ${self.token_env})"
            raise GitHubAuthError(f"GitHub rejected the credentials (401 {_message(body)}): check {src}", 401)
        if status == 404:
            raise GitHubNotFoundError(f"{where}: not found (404)", 404)
        if status >= 500:
            wait = _seconds(hdrs.get("retry-after"))
            raise _Retry(f"server error {status}", min(wait, self.max_backoff) if wait is not None else None)
        if status >= 400:
            raise GitHubError(f"{where}: {status} {_message(body)}", status)
        if status == 204 or not body:
            return Response(status, url, None, hdrs)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Retry(f"invalid or truncated JSON ({_exc_line(exc)})") from None
        return Response(status, url, data, hdrs)

    # ------------------------------------------------------------- shortcuts
    def get(self, path: str, params: Mapping[str, Any] | None = None, etag: str | None = None) -> Response:
        return self.request("GET", path, params=params, etag=etag)

    def post(self, path: str, body: Any) -> Response:
        return self.request("POST", path, json_body=body)

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
                raise GitHubError(f"pagination loops back to {_short(url)}")
            seen.add(url)
            page = self.get(url)
            if not isinstance(page.data, list):
                raise GitHubError(f"GET {_short(url)}: expected a JSON list, got {type(page.data).__name__}")
            yield page
            url = page.next_url

    def get_all(self, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every element of a paginated list endpoint."""
        out: list[Any] = []
        for page in self.paginate(path, params):
            out.extend(page.data)
        return out


def _seconds(retry_after: str | None) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date; 60 when unreadable)."""
    if retry_after is None:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, parsedate_to_datetime(retry_after).timestamp() - time.time())
    except (TypeError, ValueError):
        return 60.0


def _short(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _message(body: bytes) -> str:
    try:
        msg = json.loads(body).get("message", "")
    except (ValueError, AttributeError, UnicodeDecodeError):
        msg = ""
    return str(msg)[:200] or "no message"


def _exc_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
