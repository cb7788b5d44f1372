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
    repo: str = typer.Option(
        None, "--repo", help="OWNER/NAME for the items (default: from the dump, or local/<file name>)."
    ),
    format: str = typer.Option("auto", "--format", help="auto|github|jsonl|csv|semicolon"),
    text_fields: str = typer.Option(
        None, "--text-fields", help="Comma-separated fields joined into the text (default: text, else title+body)."
    ),
    label_field: str = typer.Option(
        None, "--label-field", help="Field with the label(s) (default: labels, else label)."
    ),
    max_decompressed: str = typer.Option(
        None,
        "--max-decompressed",
        help="Most bytes a .zip/.gz may expand to, e.g. 500MB (default: $FEWTAG_MAX_DECOMPRESSED or 2GB).",
    ),
) -> None:
    """Import issues or labelled texts into the store (idempotent; all or nothing).

    A row the store already holds with a later ``updated_at`` is kept: importing an
    older dump never overwrites newer data (counted as "older, kept the stored").
    """
    from fewtag.data.importers import import_file, parse_size

    fields = [f.strip() for f in text_fields.split(",") if f.strip()] if text_fields else None
    limit = parse_size(max_decompressed) if max_decompressed is not None else None
    result = import_file(
        path, store, format=format, repo=repo, text_fields=fields, label_field=label_field, max_bytes=limit
    )
    counts = result.counts
    info(f"read {result.items} items from {path}")
    out.print(
        f"{store}: {counts.inserted} new, {counts.updated} updated, "
        f"{counts.unchanged} unchanged, {counts.older} older than the stored version (kept the "
        "stored)",
        highlight=False,
    )
