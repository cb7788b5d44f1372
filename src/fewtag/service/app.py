"""The FastAPI application: ``create_app(settings)``; the lifespan loads the model once."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fewtag import __version__
from fewtag.service.batcher import MicroBatcher
from fewtag.service.deps import ServiceState
from fewtag.service.metrics import Metrics
from fewtag.service.middleware import BodyLimitMiddleware, MetricsMiddleware
from fewtag.service.predict import make_predict_fn
from fewtag.service.settings import ServiceSettings, get_settings
from fewtag.service.webhook import DeliveryLog, GitHubLabelWriter, LabelWriter

__all__ = ["create_app", "load_service_model"]

log = logging.getLogger("fewtag.service")


def load_service_model(model: str | None, encoder_backend: str | None = None) -> Any:
    """Load the model folder to serve and run it once.

    ``encoder_backend`` overrides the backend of the model's sentence encoder.
    Raises a :class:`~fewtag.errors.ModelFileError` when the folder is unusable,
    an :class:`~fewtag.errors.InputError` for a backend the method does not take.
    """
    from fewtag.errors import ModelFileError
    from fewtag.methods import load_tagger

    if not model:
        raise ModelFileError("no model to serve: pass a model folder (fewtag serve MODEL) "
                             "or set FEWTAG_MODEL")
    tagger = load_tagger(model, encoder_backend=encoder_backend)
    # one prediction loads the encoder (and exports it for the onnx backends) before the
    # service reports ready, and fails start-up if it cannot be loaded
    tagger.predict(["warm-up"])
    return tagger


def _open_search(state: ServiceState, encoder: Any) -> None:
    from fewtag.errors import TaggerError
    from fewtag.search.index import Searcher

    try:
        state.searcher = Searcher(state.store, encoder)
    except TaggerError as exc:
        state.search_error = str(exc)
        log.warning("search is disabled: %s", exc)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with FastAPI's error list plus one sentence naming the first problem."""
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    what = str(first.get("msg", "invalid input")).removeprefix("Value error, ")
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    message = f"The request is invalid at {where}: {what}{more}."
    return JSONResponse({"message": message, "detail": jsonable_errors(errors)}, status_code=422)


def jsonable_errors(errors: Any) -> Any:
    from fastapi.encoders import jsonable_encoder

    return jsonable_encoder(errors)


def create_app(
    settings: ServiceSettings | None = None,
    *,
    tagger: Any = None,
    encoder: Any = None,
    writer: LabelWriter | None = None,
) -> FastAPI:
    """Build the app. The model, store and search index are opened in the lifespan.

    Parameters
    ----------
    settings : ServiceSettings, optional
        Default: read from ``FEWTAG_*`` environment variables.
    tagger : BaseTagger, optional
        An already loaded model (tests); default ``load_tagger(settings.model)``.
    encoder : Encoder, optional
        The query encoder for ``/v1/search``; default the index's own encoder.
    writer : LabelWriter, optional
        Label write-back for the webhook; default :class:`GitHubLabelWriter`.

    Examples
    --------
    >>> from fastapi.testclient import TestClient                  # doctest: +SKIP
    >>> with TestClient(create_app(ServiceSettings(model="m"))) as c:  # doctest: +SKIP
    ...     c.get("/healthz").json()
    {'status': 'ok'}
    """
    settings = settings or get_settings()
    metrics = Metrics({"fewtag_version": __version__})
    state = ServiceState(settings=settings, metrics=metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = tagger if tagger is not None else load_service_model(settings.model,
                                                                      settings.encoder_backend)
        state.tagger = model
        state.model_id = settings.model or getattr(model, "name", "model")
        metrics.info.update({"model": str(state.model_id), "method": str(getattr(model, "name", ""))})
        state.batcher = MicroBatcher(make_predict_fn(model), max_batch=settings.batch_max_size,
                                     max_wait=settings.batch_max_wait_ms / 1000.0,
                                     on_batch=metrics.batch).start()
        if settings.store:
            from fewtag.data.store import Store

            state.store = Store(settings.store)
            _open_search(state, encoder)
        else:
            state.search_error = "search is not configured: start the server with --store DB " \
                                 "(or set FEWTAG_STORE) after building its index with `fewtag index`"
        state.deliveries = DeliveryLog(state.store, max_size=settings.delivery_memory,
                                       lock=state.store_lock)
        token = settings.github_token.get_secret_value() if settings.github_token else None
        state.writer = writer if writer is not None else GitHubLabelWriter(
            token, settings.github_api_url, state.store, str(state.model_id), lock=state.store_lock)
        state.can_write = writer is not None or token is not None
        state.ready = True
        try:
            yield
        finally:
            state.ready = False
            state.batcher.stop()
            if state.store is not None:
                state.store.close()

    app = FastAPI(
        title="fewtag",
        version=__version__,
        description="Tag GitHub issues and short texts; semantic search; a GitHub webhook.",
        lifespan=lifespan,
    )
    app.state.fewtag = state
    app.add_exception_handler(RequestValidationError, _validation_error)
    from fewtag.service.routers import health, metrics as metrics_router, predict, search, webhook

    for module in (health, predict, search, metrics_router, webhook):
        app.include_router(module.router)
    paths = set(app.openapi()["paths"]) | {"/docs", "/redoc", "/openapi.json"}
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics, paths=paths)
    return app
