"""``fewtag export``: the store as JSON lines, CSV or Parquet (datasets-compatible)."""

from __future__ import annotations

import typer

from fewtag.cli._app import app, info
from fewtag.data.store import DEFAULT_STORE


@app.command("export")
def export_command(
    format: str = typer.Option("jsonl", "--format", help="jsonl|csv|parquet"),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="SQLite store file."),
    out_path: str = typer.Option(
        None, "--out", help="Output file ('-' = stdout for jsonl/csv; default fewtag-export.FORMAT)."
    ),
    repo: str = typer.Option(None, "--repo", help="Only this OWNER/REPO."),
    include_prs: bool = typer.Option(True, "--include-prs/--no-prs", help="Keep pull requests."),
) -> None:
    """Export the store as JSONL/CSV/Parquet that datasets.load_dataset reads.

    Columns: id, repo, number, title, body, text, labels, is_pull_request, state,
    created_at, updated_at.
    """
    from pathlib import Path

    from fewtag.data.export import export_store
    from fewtag.data.store import Store
    from fewtag.errors import InputError

    if store != ":memory:" and not Path(store).is_file():
        raise InputError(f"store {store} does not exist; create it with `fewtag fetch` or `fewtag import`")
    target = out_path or f"fewtag-export.{format}"
    with Store(store) as s:
        n = export_store(s, target, format=format, repo=repo, include_prs=include_prs)
    if target != "-":
        info(f"wrote {n} rows to {target}")
