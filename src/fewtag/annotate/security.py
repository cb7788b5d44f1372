"""Who may use the page, and which posts are genuine.

* **Token.** With ``FEWTAG_ANNOTATE_TOKEN`` set (required off loopback) every page but
  ``/healthz`` and ``/login`` needs the session cookie that ``POST /login`` sets after the token
  was typed (HttpOnly, SameSite=Strict; its value is an HMAC of the token, not the token), or the
  header ``Authorization: Bearer <token>`` (scripts). Compared in constant time.
* **Forged posts.** Every form carries a per-process random ``csrf`` value that a post must send
  back; a post whose ``Origin`` is another site, or that the browser marks ``Sec-Fetch-Site:
  cross-site``, is refused before the form is read.
* **DNS rebinding.** Bound to loopback, only ``Host`` headers naming loopback are answered, so a
  web page whose domain was re-pointed at 127.0.0.1 cannot read the page (and its ``csrf`` value).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request

from fewtag.annotate.settings import AnnotateSettings, is_loopback

__all__ = ["Guard", "COOKIE"]

COOKIE = "fewtag_annotate"
_OPEN_PATHS = {"/healthz", "/login", "/favicon.ico"}


class Guard:
    """The checks of one running page (its settings, its ``csrf`` value)."""

    def __init__(self, settings: AnnotateSettings):
        self.settings = settings
        self.csrf = secrets.token_urlsafe(32)
        token = settings.token
        self._token = token.encode() if token else None
        self._session = (
            hmac.new(self._token, b"fewtag-annotate-session", hashlib.sha256).hexdigest() if self._token else None
        )

    # ------------------------------------------------------------------ token
    @property
    def needs_login(self) -> bool:
        return self._token is not None

    def token_ok(self, given: str) -> bool:
        return self._token is not None and hmac.compare_digest(given.encode("utf-8", "replace"), self._token)

    @property
    def session_value(self) -> str:
        assert self._session is not None
        return self._session

    def authenticated(self, request: Request) -> bool:
        if self._token is None:
            return True
        cookie = request.cookies.get(COOKIE, "")
        if cookie and hmac.compare_digest(cookie.encode("utf-8", "replace"), self.session_value.encode()):
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.token_ok(given.strip())

    # ------------------------------------------------------------------ origin
    def host_ok(self, request: Request) -> bool:
        """Off loopback any ``Host`` is fine (the token guards); on loopback only loopback names."""
        if not is_loopback(self.settings.host):
            return True
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return is_loopback(name)

    def same_origin(self, request: Request) -> bool:
        if request.headers.get("sec-fetch-site", "") == "cross-site":
            return False
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            # no Origin: not a cross-site browser post (browsers send one on every cross-site POST);
            # "null" comes from sandboxed or file:// pages and is refused below unless csrf matches
            return origin is None
        return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode("utf-8", "replace"), self.csrf.encode())

    # ------------------------------------------------------------------ checks
    def check_request(self, request: Request) -> None:
        """Host and login checks for every request (a dependency of the router)."""
        if not self.host_ok(request):
            raise HTTPException(
                status_code=421,
                detail="This page answers only to loopback host names (127.0.0.1, localhost); "
                "open it at http://127.0.0.1:PORT/.",
            )
        if request.url.path not in _OPEN_PATHS and not self.authenticated(request):
            raise HTTPException(
                status_code=401,
                detail="Log in first: open /login and type the token set in FEWTAG_ANNOTATE_TOKEN.",
            )

    def check_post(self, request: Request, csrf: str | None) -> None:
        """A state-changing request: same origin and the page's ``csrf`` value."""
        if not self.same_origin(request) or not self.csrf_ok(csrf):
            raise HTTPException(
                status_code=403,
                detail="This form was not sent by this page (wrong origin or stale form); "
                "reload the page and try again.",
            )
