"""The FastAPI application: ``create_app(settings)``; the lifespan loads the model once."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fewtag._version import __version__
from fewtag.service.batcher import MicroBatcher
from fewtag.service.deps import ServiceState
from fewtag.service.metrics import Metrics
from fewtag.service.middleware import BodyLimitMiddleware, MetricsMiddleware
from fewtag.service.predict import make_predict_fn
from fewtag.service.settings import ServiceSettings, check_secrets, get_settings
from fewtag.service.webhook import DeliveryLog, GitHubLabelWriter, IssueJob, LabelWriter, plan_labels
from fewtag.service.writeback import WriteBackFailed, WriteBackWorker

__all__ = ["create_app", "load_service_model"]

log = logging.getLogger("fewtag.service")


def load_service_model(model: str | None, encoder_backend: str | None = None) -> Any:
    """Load the model folder to serve and run it once.

    ``encoder_backend`` overrides the backend of the model's sentence encoder.
    Raises a :class:`~fewtag.errors.ModelFileError` when the folder is unusable,
    an :class:`~fewtag.errors.InputError` for a backend the method does not take.
    """
    from fewtag.errors import ModelFileError
    from fewtag.registry import load_tagger

    if not model:
        raise ModelFileError("no model to serve: pass a model folder (fewtag serve MODEL) or set FEWTAG_MODEL")
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
    if first.get("type") == "json_invalid":  # strict_loads says why (NaN, not UTF-8, ...)
        why = str((first.get("ctx") or {}).get("error", "malformed JSON"))
        message = f"The request body is not valid JSON: {why}."
    else:
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

    Raises
    ------
    ConfigError
        ``FEWTAG_API_TOKEN`` or ``FEWTAG_WEBHOOK_SECRET`` is set but empty, whitespace
        only or too short (see :func:`~fewtag.service.settings.check_secrets`).

    Examples
    --------
    >>> from fastapi.testclient import TestClient                  # doctest: +SKIP
    >>> with TestClient(create_app(ServiceSettings(model="m"))) as c:  # doctest: +SKIP
    ...     c.get("/healthz").json()
    {'status': 'ok'}
    """
    settings = settings or get_settings()
    check_secrets(settings)  # a ConfigError (one line) before anything loads
    metrics = Metrics({"fewtag_version": __version__})
    state = ServiceState(settings=settings, metrics=metrics)
    closing: list[Any] = []

    def current_settings() -> ServiceSettings:
        provider = app.dependency_overrides.get(get_settings, get_settings)
        return provider()

    def process(job: IssueJob, deadline: float) -> dict[str, Any]:
        """Predict for one delivery's issue and write the labels back (the worker's job)."""
        run = current_settings()
        text = state.tagger.text_of(job.record(), f"delivery {job.delivery}")[: run.max_text_chars]
        assert state.batcher is not None and state.writer is not None
        [(labels, scores, _)] = state.batcher.submit([text]).result(timeout=max(0.1, deadline - time.monotonic()))
        plan = plan_labels(job.repo, job.number, job.labels, labels, scores)
        dry_run = run.dry_run or not state.can_write
        actions = state.writer.apply(plan, dry_run=dry_run, timeout=max(0.1, deadline - time.monotonic()))
        failed = [a for a in actions if a["action"] == "failed"]
        if failed:
            raise WriteBackFailed(f"GitHub did not take {[a['label'] for a in failed]}: {failed[0]['reason']}")
        return {
            "status": "planned" if dry_run else "applied",
            "repo": job.repo,
            "number": job.number,
            "labels": labels,
            "dry_run": dry_run,
            "added": [a["label"] for a in actions if a["action"] == "added"],
            "actions": actions,
        }

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        model = tagger if tagger is not None else load_service_model(settings.model, settings.encoder_backend)
        state.tagger = model
        state.model_id = settings.model or getattr(model, "name", "model")
        metrics.set_model(str(state.model_id), str(getattr(model, "name", "")))
        state.batcher = MicroBatcher(
            make_predict_fn(model),
            max_batch=settings.batch_max_size,
            max_wait=settings.batch_max_wait_ms / 1000.0,
            on_batch=metrics.batch,
        ).start()
        writer_store = None
        if settings.store:
            from fewtag.data.store import Store

            state.store = Store(settings.store)
            # the write-back has a connection of its own: its GitHub calls never hold the lock
            # that the request path takes to record a delivery
            writer_store = Store(settings.store)
            closing.append(writer_store)
            _open_search(state, encoder)
        else:
            state.search_error = (
                "search is not configured: start the server with --store DB "
                "(or set FEWTAG_STORE) after building its index with `fewtag index`"
            )
        state.deliveries = DeliveryLog(state.store, max_size=settings.delivery_memory, lock=state.store_lock)
        token = settings.github_token.get_secret_value() if settings.github_token else None
        state.writer = (
            writer
            if writer is not None
            else GitHubLabelWriter(token, settings.github_api_url, writer_store, str(state.model_id))
        )
        state.can_write = writer is not None or token is not None
        state.worker = WriteBackWorker(
            process,
            state.deliveries,
            max_queue=settings.webhook_queue,
            attempts=settings.webhook_attempts,
            budget=settings.webhook_budget_s,
            on_outcome=metrics.webhook,
            on_size=metrics.queue_size,
        ).start()
        pending = state.deliveries.pending()
        resumed = sum(state.worker.submit(job) for job in pending)
        if pending:
            log.info("resuming %d pending webhook deliveries (%d queued)", len(pending), resumed)
        state.ready = True
        try:
            yield
        finally:
            state.ready = False
            state.worker.stop(timeout=min(10.0, settings.webhook_budget_s + 1))
            state.batcher.stop()
            if state.store is not None:
                state.store.close()
            for s in closing:
                s.close()

    app = FastAPI(
        title="fewtag",
        version=__version__,
        description="Tag GitHub issues and short texts; semantic search; a GitHub webhook.",
        lifespan=lifespan,
    )
    app.state.fewtag = state
    app.dependency_overrides[get_settings] = lambda: settings
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    from fewtag.service.routers import health, predict, search, webhook
    from fewtag.service.routers import metrics as metrics_router

    for module in (health, predict, search, metrics_router, webhook):
        app.include_router(module.router)
    paths = set(app.openapi()["paths"]) | {"/docs", "/redoc", "/openapi.json"}
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    app.add_middleware(MetricsMiddleware, metrics=metrics, paths=paths)
    return app
