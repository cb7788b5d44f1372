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
    store: Path = typer.Option(None, "--store", help="Store with a search index (`fewtag index`); "
                               "enables /v1/search and remembers webhook deliveries."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (0.0.0.0 in a container)."),
    port: int = typer.Option(8000, "--port", help="Port to bind."),
    dry_run: bool = typer.Option(None, "--dry-run/--apply", help="Webhook: only log the label plan "
                                 "(default: FEWTAG_DRY_RUN, else apply)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
    encoder_backend: str = ENCODER_BACKEND_OPTION,
) -> None:
    """Serve POST /v1/predict, /v1/search, /github/webhook, /healthz, /readyz, /metrics and /docs.

    Settings come from FEWTAG_* variables (FEWTAG_API_TOKEN, FEWTAG_WEBHOOK_SECRET,
    FEWTAG_MAX_BATCH, ...; see docs/serve.md).
    """
    from fewtag.errors import InputError, MissingDependencyError

    # before torch loads: idle OpenMP threads sleep instead of spinning on the cores that the
    # event loop needs (a MiniLM service on 2 cores: 0.88x offline throughput instead of 0.72x)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    try:
        import uvicorn

        from fewtag.service import ServiceSettings, create_app
        from fewtag.service.app import load_service_model
    except ImportError as exc:
        raise MissingDependencyError(f"serving needs the serve extra: pip install 'fewtag[serve]' ({exc})") \
            from exc
    overrides: dict[str, object] = {"model": str(model)}
    if store is not None:
        if not store.is_file():
            raise InputError(f"store {store} does not exist; create it with `fewtag import` or `fewtag fetch`")
        overrides["store"] = str(store)
    if dry_run is not None:
        overrides["dry_run"] = dry_run
    if encoder_backend is not None:
        overrides["encoder_backend"] = encoder_backend
    settings = ServiceSettings(**overrides)  # type: ignore[arg-type]
    # fails here, in one line, before binding the port
    tagger = load_service_model(settings.model, settings.encoder_backend)
    info(f"serving {model} ({tagger.name}, {len(tagger.classes_)} labels) on http://{host}:{port} "
         f"— docs at /docs")
    uvicorn.run(create_app(settings, tagger=tagger), host=host, port=port, log_level=log_level)
