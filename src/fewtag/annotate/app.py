"""The annotation page as a FastAPI app: ``create_annotate_app(settings, task)``."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fewtag._version import __version__
from fewtag.annotate.review import read_review
from fewtag.annotate.security import Guard
from fewtag.annotate.settings import AnnotateSettings, check_access
from fewtag.annotate.state import AnnotateState
from fewtag.annotate.templates import _INDEX, render
from fewtag.annotate.worker import ActiveEngine, RetrainWorker
from fewtag.service.middleware import BodyLimitMiddleware

__all__ = ["create_annotate_app", "CONTENT_SECURITY_POLICY"]

log = logging.getLogger("fewtag.annotate")


def _script_hash() -> str:
    match = re.search(r"<script>(.*?)</script>", _INDEX, re.S)
    assert match is not None
    return base64.b64encode(hashlib.sha256(match.group(1).encode()).digest()).decode()


#: no script runs but the page's own key handler (its hash), even if escaping ever failed
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; script-src 'sha256-{_script_hash()}'; style-src 'unsafe-inline'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    # not no-referrer: under it Chrome sends "Origin: null" with the page's own form posts
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


async def _http_error(request: Request, exc: Exception) -> Response:
    """HTML for browsers, ``{"detail": ...}`` for scripts."""
    assert isinstance(exc, StarletteHTTPException)
    if "text/html" in request.headers.get("accept", ""):
        html = render("error", status=exc.status_code, message=str(exc.detail))
        return HTMLResponse(html, status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def create_annotate_app(settings: AnnotateSettings, task: Any, *, engine: Any = None, worker: bool = True) -> FastAPI:
    """Build the page. The store, the review file and the retrain worker open in the lifespan.

    Parameters
    ----------
    settings : AnnotateSettings
        ``settings.store`` must be a file (the worker opens its own connection to it).
    task : LabelTask
        What is labelled.
    engine : ActiveEngine, optional
        The session API the worker calls; default :class:`ActiveEngine` (``fewtag.active``).
    worker : bool
        Start the background worker (``False`` in tests that drive rounds by hand).

    Raises
    ------
    ConfigError
        A non-loopback host without ``FEWTAG_ANNOTATE_TOKEN``, or an unusable token
        (:func:`~fewtag.annotate.settings.check_access`), before anything opens.
    InputError
        A review file that is missing or malformed.
    """
    check_access(settings)
    review = read_review(settings.review) if settings.review else None
    engine = engine if engine is not None else ActiveEngine(task, settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from fewtag.data.store import Store

        store = Store(settings.store)
        state = AnnotateState(settings, task, store, review)
        app.state.annotate = state
        runner = RetrainWorker(state, engine, settings.store)
        app.state.worker = runner
        if worker:
            runner.start()
        try:
            yield
        finally:
            runner.stop()
            store.close()

    app = FastAPI(title="fewtag annotate", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.guard = Guard(settings)
    from fewtag.annotate.routes import router

    app.include_router(router)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout=30.0)
    return app
