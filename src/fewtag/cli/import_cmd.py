"""``fewtag import``: files into the store."""

from __future__ import annotations

from pathlib import Path

import typer

from fewtag.cli._app import app, info, out
from fewtag.data.store import DEFAULT_STORE

STORE_OPTION = typer.Option(DEFAULT_STORE, "--store", help="SQLite store file.")


@app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="JSON/JSONL/CSV/text;label file, or a .zip/.gz of them."),
    store: str = STORE_OPTION,
    repo: str = typer.Option(None, "--repo", help="OWNER/NAME for the items (default: from the dump, "
                             "or local/<file name>)."),
    format: str = typer.Option("auto", "--format", help="auto|github|jsonl|csv|semicolon"),
    text_fields: str = typer.Option(None, "--text-fields", help="Comma-separated fields joined into "
                                    "the text (default: text, else title+body)."),
    label_field: str = typer.Option(None, "--label-field", help="Field with the label(s) "
                                    "(default: labels, else label)."),
) -> None:
    """Import issues or labelled texts into the store (idempotent)."""
    from fewtag.data.importers import read_items
    from fewtag.data.store import Store

    fields = [f.strip() for f in text_fields.split(",") if f.strip()] if text_fields else None
    items = read_items(path, format=format, repo=repo, text_fields=fields, label_field=label_field)
    with Store(store) as s:
        counts = s.upsert_items(items)
    info(f"read {len(items)} items from {path}")
    out.print(f"{store}: {counts.inserted} new, {counts.updated} updated, "
              f"{counts.unchanged} unchanged", highlight=False)
