"""``fewtag serve MODEL``: the HTTP API and GitHub webhook under uvicorn."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from fewtag.cli._app import app, info
from fewtag.cli.predict import ENCODER_BACKEND_OPTION


@app.command("serve")
def serve_cmd(
    model: Path = typer.Argument(..., help="A model folder written by `fewtag train`."),
    store: Path = typer.Option(
        None,
        "--store",
        help="Store with a search index (`fewtag index`); enables /v1/search and remembers webhook deliveries.",
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 in a container)."),
    port: int = typer.Option(8000, "--port", help="Port to bind."),
    dry_run: bool = typer.Option(
        None, "--dry-run/--apply", help="Webhook: only log the label plan (default: FEWTAG_DRY_RUN, else apply)."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    encoder_backend: str = ENCODER_BACKEND_OPTION,
    allow_weak_secret: bool = typer.Option(
        None,
        "--allow-weak-secret",
        help="Accept a "
        "FEWTAG_API_TOKEN or FEWTAG_WEBHOOK_SECRET shorter than "
        "16 characters (FEWTAG_ALLOW_WEAK_SECRET).",
    ),
    timeout_keep_alive: int = typer.Option(
        None, "--timeout-keep-alive", min=1, help="Seconds an idle keep-alive connection stays open (default 5)."
    ),
    header_timeout: float = typer.Option(
        None, "--header-timeout", min=0.001, help="Seconds a client has to send a request's headers (default 10)."
    ),
    body_timeout: float = typer.Option(
        None, "--body-timeout", min=0.001, help="Seconds a client has to send a request's body; 408 after (default 30)."
    ),
    limit_concurrency: int = typer.Option(
        None, "--limit-concurrency", min=1, help="Connections and requests at once; more get 503 (default 256)."
    ),
    max_header_bytes: int = typer.Option(
        None, "--max-header-bytes", min=1024, help="Largest request head in bytes (default 16384)."
    ),
    timeout_graceful_shutdown: int = typer.Option(
        None, "--timeout-graceful-shutdown", min=0, help="Seconds in-flight requests get on shutdown (default 10)."
    ),
) -> None:
    """Serve POST /v1/predict, /v1/search, /github/webhook, /healthz, /readyz, /metrics and /docs.

    Settings come from FEWTAG_* variables (FEWTAG_API_TOKEN, FEWTAG_WEBHOOK_SECRET,
    FEWTAG_MAX_BATCH, ...; see docs/serve.md); options given here win. An empty, blank or
    short (< 16 characters) token or secret stops the command with one line.
    """
    from fewtag.errors import ConfigError, InputError, MissingDependencyError

    # before torch loads: idle OpenMP threads sleep instead of spinning on the cores that the
    # event loop needs (a MiniLM service on 2 cores: 0.88x offline throughput instead of 0.72x)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    try:
        import uvicorn
        from pydantic import ValidationError

        from fewtag.service import ServiceSettings, create_app
        from fewtag.service.app import load_service_model
        from fewtag.service.server import server_config
        from fewtag.service.settings import check_secrets
    except ImportError as exc:
        raise MissingDependencyError(f"serving needs the serve extra: pip install 'fewtag[serve]' ({exc})") from exc
    overrides: dict[str, object] = {"model": str(model)}
    if store is not None:
        if not store.is_file():
            raise InputError(f"store {store} does not exist; create it with `fewtag import` or `fewtag fetch`")
        overrides["store"] = str(store)
    if dry_run is not None:
        overrides["dry_run"] = dry_run
    if encoder_backend is not None:
        overrides["encoder_backend"] = encoder_backend
    for key, value in (
        ("allow_weak_secret", allow_weak_secret),
        ("timeout_keep_alive", timeout_keep_alive),
        ("header_timeout", header_timeout),
        ("body_timeout", body_timeout),
        ("limit_concurrency", limit_concurrency),
        ("max_header_bytes", max_header_bytes),
        ("timeout_graceful_shutdown", timeout_graceful_shutdown),
    ):
        if value is not None:
            overrides[key] = value
    try:
        settings = ServiceSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"setting {where} (FEWTAG_{where.upper()}): {first['msg']}") from None
    # these fail here, in one line, before the model loads or the port is bound
    check_secrets(settings)
    tagger = load_service_model(settings.model, settings.encoder_backend)
    info(f"serving {model} ({tagger.name}, {len(tagger.classes_)} labels) on http://{host}:{port} — docs at /docs")
    app = create_app(settings, tagger=tagger)
    uvicorn.Server(server_config(app, settings, host=host, port=port, log_level=log_level)).run()
