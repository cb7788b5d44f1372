"""What comes back from the GitHub REST API: decoded responses, ``Link`` pagination
headers, the primary rate-limit headers, ``Retry-After`` and the one-line error texts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "Response",
    "RateLimit",
    "parse_link_header",
    "retry_after_seconds",
    "short_url",
    "error_message",
    "exc_line",
]


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


def retry_after_seconds(retry_after: str | None) -> float | None:
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


def short_url(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def error_message(body: bytes) -> str:
    try:
        msg = json.loads(body).get("message", "")
    except (ValueError, AttributeError, UnicodeDecodeError):
        msg = ""
    return str(msg)[:200] or "no message"


def exc_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
