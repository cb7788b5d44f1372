"""``fewtag tag``: predict every selected item of a store into its ``predictions`` table."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fewtag.cli._app import app, console, info, out, state
from fewtag.data.store import DEFAULT_STORE


@app.command("tag")
def tag_command(
    model: Path = typer.Argument(..., help="A model folder (fewtag train)."),
    store: Path = typer.Option(Path(DEFAULT_STORE), "--store", help="The SQLite store to tag."),
    where: str = typer.Option(
        None, "--where", help="SQL filter on the items table, e.g. \"state = 'open' AND created_at >= '2024'\"."
    ),
    repo: str = typer.Option(None, "--repo", help="Only this OWNER/NAME."),
    item_state: str = typer.Option(None, "--state", help="Only items in this state (open, closed)."),
    prs: bool = typer.Option(False, "--prs", help="Tag pull requests too."),
    engine: str = typer.Option("local", "--engine", help="local (this process) or ray (fewtag[ray])."),
    address: str = typer.Option(
        None, "--address", help="Ray cluster to join (host:6379 or ray://host:10001); default: start Ray locally."
    ),
    workers: int = typer.Option(None, "--workers", min=1, help="Ray actors (default: the cluster's CPUs)."),
    batch_size: int = typer.Option(256, "--batch-size", min=1, help="Items per predict call and per commit."),
    name: str = typer.Option(None, "--name", help="The model's name in the table (default: the folder's name)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Tag the selected items of a store and write the predictions into it (resumable).

    Predictions are keyed by item, model name and the model folder's content hash: a
    rerun, or a run after an interrupt, predicts only what has no prediction of this
    model yet, and no prediction is written twice. Filters combine with AND.
    """
    from fewtag.data.store import Store
    from fewtag.engine import Selection, tag_store
    from fewtag.errors import InputError

    if not store.is_file():
        raise InputError(f"store {store} does not exist; create it with `fewtag import` or `fewtag fetch`")
    selection = Selection(where=where, repo=repo, state=item_state, include_prs=prs)
    show = not state.quiet and console.is_terminal and not as_json

    def progress(done: int, total: int) -> None:
        if show:
            console.print(f"\rtagged {done}/{total}", end="", highlight=False)

    with Store(store) as db:
        report = tag_store(
            db,
            model,
            selection,
            engine=engine,
            batch_size=batch_size,
            workers=workers,
            address=address,
            model_name=name,
            quiet=not state.verbose,
            progress=progress,
        )
    if show:
        console.print()
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
        return
    skipped = f", {report.already} already tagged by this model" if report.already else ""
    workers_note = f" on {report.workers} Ray actors" if report.engine == "ray" and report.written else ""
    info(
        f"tagged {report.written} of {report.selected} selected items{skipped} in {report.seconds:.1f} s "
        f"({report.items_per_s:.0f} items/s{workers_note}); model {report.model} #{report.model_hash}"
    )
