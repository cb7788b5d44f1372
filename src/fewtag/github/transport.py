"""The HTTP transport under :class:`fewtag.github.client.GitHubClient`: one request with
bounded retries (exponential backoff and jitter on 5xx, timeouts, connection errors and
truncated JSON), rate-limit waits with a countdown, conditional requests, and the token,
which is sent only to the API host and never shown.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Self
from urllib.parse import urlencode, urljoin, urlsplit

from fewtag.errors import GitHubAuthError, GitHubError, GitHubNotFoundError, MissingDependencyError
from fewtag.github.env import API_VERSION, api_url_from_env
from fewtag.github.response import RateLimit, Response, error_message, exc_line, retry_after_seconds, short_url

__all__ = ["Transport", "WaitCallback"]

log = logging.getLogger("fewtag.github")

#: Called while waiting: ``on_wait(seconds_left, reason)``.
WaitCallback = Callable[[float, str], None]


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


class Transport:
    """Requests to one GitHub API host; :class:`fewtag.github.client.GitHubClient` documents the parameters."""

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

    # --------------------------------------------------------------- plumbing
    @property
    def authenticated(self) -> bool:
        return self.__token is not None

    def __repr__(self) -> str:
        auth = "token" if self.__token else "anonymous"
        return f"{type(self).__name__}({self.api_url!r}, {auth})"

    def __enter__(self) -> Self:
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
        where = f"{method} {short_url(url)}"
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
            raise _Retry(f"network error ({exc_line(exc)}) reaching {urlsplit(url).netloc}") from None
        self.requests_made += 1
        hdrs = {k.lower(): v for k, v in resp.headers.items()}
        self.rate.update(hdrs)
        status = resp.status_code
        log.debug("%s -> %d (remaining %s)", where, status, self.rate.remaining)
        if status == 304:
            return Response(304, url, None, hdrs)
        if status in (403, 429):
            wait = retry_after_seconds(hdrs.get("retry-after"))
            if wait is not None:
                raise _Retry(f"secondary rate limit ({status}, Retry-After {wait:g} s)", wait)
            if self.rate.remaining == 0:
                self._wait_for_reset("primary rate limit exceeded")
                raise _Retry("primary rate limit exceeded", 0.0)
            if status == 429:
                raise _Retry("too many requests (429)")
            if "rate limit" in error_message(body).lower():  # a secondary limit without Retry-After
                raise _Retry("secondary rate limit (403, no Retry-After)", 60.0)
            raise GitHubAuthError(
                f"{where}: forbidden (403): {error_message(body)}; "
                f"check that ${self.token_env} may read this repository",
                403,
            )
        if status == 401:
            src = f"${self.token_env}" if self.__token else f"no token (set ${self.token_env})"
            raise GitHubAuthError(f"GitHub rejected the credentials (401 {error_message(body)}): check {src}", 401)
        if status == 404:
            raise GitHubNotFoundError(f"{where}: not found (404)", 404)
        if status >= 500:
            wait = retry_after_seconds(hdrs.get("retry-after"))
            raise _Retry(f"server error {status}", min(wait, self.max_backoff) if wait is not None else None)
        if status >= 400:
            raise GitHubError(f"{where}: {status} {error_message(body)}", status)
        if status == 204 or not body:
            return Response(status, url, None, hdrs)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _Retry(f"invalid or truncated JSON ({exc_line(exc)})") from None
        return Response(status, url, data, hdrs)
