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
    A batch file written by `fewtag next` and filled in appends its labels to the
    annotations log instead (rows left empty stay unlabelled).
    """
    from fewtag.data.importers import import_file, parse_size

    if format == "auto" and _import_batch(path, store):
        return

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


def _import_batch(path: Path, store: str) -> bool:
    """Import ``path`` as a filled `fewtag next` batch, when it is one; whether it was."""
    from fewtag.active.batch import import_batch, is_batch_file
    from fewtag.data.store import Store

    if not is_batch_file(path):
        return False
    if not Path(store).is_file():
        from fewtag.errors import InputError

        raise InputError(f"store {store} does not exist; a batch file labels issues already in a store")
    with Store(store) as s:
        done = import_batch(path, s)
    out.print(
        f"{store}: {done.added} labels added to the annotations log (source import), "
        f"{done.empty} rows left empty (still unlabelled)",
        highlight=False,
    )
    return True
