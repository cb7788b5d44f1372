"""``fewtag annotate``: the labelling page, served on 127.0.0.1 by default."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from fewtag.cli._app import app, info


@app.command("annotate")
def annotate_cmd(
    store: Path = typer.Option(
        None, "--store", help="Store with the items (default: the config's data.store, else fewtag.db)."
    ),
    labels: str = typer.Option(None, "--labels", help="The labels, comma-separated: bug,docs,question."),
    config: Path = typer.Option(None, "--config", help="A dataset.toml naming the labels ([labels] keep)."),
    multi_label: bool = typer.Option(
        False, "--multi-label", help="With --labels: several labels per issue (checkboxes)."
    ),
    strategy: str = typer.Option("hybrid", "--strategy", help="Query strategy (fewtag.active; see `fewtag next`)."),
    method: str = typer.Option("tfidf-logreg", "--method", help="Tagging method that makes the suggestions."),
    seed: int = typer.Option(0, "--seed", help="Seed of the model and the strategy."),
    batch: int = typer.Option(20, "--batch", min=1, help="Issues picked per round."),
    retrain_every: int = typer.Option(10, "--retrain-every", min=1, help="Retrain after this many new labels."),
    who: str = typer.Option(None, "--who", help="Your name, saved with every label (default: $USER)."),
    review: Path = typer.Option(None, "--review", help="label_issues.csv from `fewtag audit`: the review queue."),
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to bind; any but loopback needs FEWTAG_ANNOTATE_TOKEN."
    ),
    port: int = typer.Option(8765, "--port", help="Port to bind."),
    allow_weak_secret: bool = typer.Option(
        None, "--allow-weak-secret", help="Accept a FEWTAG_ANNOTATE_TOKEN shorter than 16 characters."
    ),
    log_level: str = typer.Option("warning", "--log-level", help="uvicorn log level."),
) -> None:
    """Label issues one at a time in a web page, with the model's suggestion beside each.

    Keys: 1-9 and 0 toggle labels, Enter saves, s skips, u undoes the last save. Every save goes
    to the store's annotations log at once; the model retrains in the background every
    --retrain-every labels. See docs/annotate.md.
    """
    from fewtag.active.task import LabelTask
    from fewtag.annotate import AnnotateSettings, check_access
    from fewtag.data.store import DEFAULT_STORE, Store
    from fewtag.errors import InputError, MissingDependencyError

    if (labels is None) == (config is None):
        raise InputError("give the labels with --labels a,b,c or a dataset.toml with --config (one of the two)")
    if config is not None and not config.is_file():
        raise InputError(f"config {config} does not exist")
    if store is None and config is not None:
        from fewtag.data.config import load_config

        store = Path(load_config(config).store)
    store = store or Path(DEFAULT_STORE)
    if not store.is_file():
        raise InputError(f"store {store} does not exist; create it with `fewtag import` or `fewtag fetch`")
    weak = allow_weak_secret if allow_weak_secret is not None else os.environ.get("FEWTAG_ALLOW_WEAK_SECRET", "")
    settings = AnnotateSettings(
        store=str(store),
        strategy=strategy,
        method=method,
        seed=seed,
        batch=batch,
        retrain_every=retrain_every,
        who=who or os.environ.get("USER") or None,
        review=str(review) if review is not None else None,
        host=host,
        port=port,
        token=os.environ.get("FEWTAG_ANNOTATE_TOKEN"),
        allow_weak_secret=str(weak).lower() in ("1", "true", "yes", "on"),
    )
    check_access(settings)  # one line, before anything loads or the port is bound
    try:
        import uvicorn

        from fewtag.annotate import create_annotate_app
        from fewtag.service.server import server_config
        from fewtag.service.settings import ServiceSettings
    except ImportError as exc:
        raise MissingDependencyError(
            f"the annotation page needs the serve extra: pip install 'fewtag[serve]' ({exc})"
        ) from exc
    from fewtag.active.registry import get_strategy
    from fewtag.registry import create

    get_strategy(strategy)  # a bad strategy or method fails here, in one line
    create(method)
    with Store(store) as s:
        task = (
            LabelTask.from_config(config, store=s)
            if config is not None
            else LabelTask.from_labels(labels, multi_label=multi_label)
        )
    web = create_annotate_app(settings, task)
    where = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    kind = "multi-label" if task.multi_label else "single-label"
    info(f"labelling {len(task.labels)} labels ({kind}) from {store} as {settings.who or 'anonymous'}: open {where}")
    if settings.token:
        info(f"log in at {where}login with the token in FEWTAG_ANNOTATE_TOKEN")
    uvicorn.Server(server_config(web, ServiceSettings(), host=host, port=port, log_level=log_level)).run()
