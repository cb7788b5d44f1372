"""``fewtag search`` and ``fewtag similar``: nearest issues from the search index."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fewtag.cli._app import app, out
from fewtag.data.store import DEFAULT_STORE


def _print(hits, as_json: bool, threshold: float | None) -> None:
    from rich.table import Table

    if as_json:
        out.print_json(json.dumps({"hits": [h.to_dict() for h in hits], "duplicate_threshold": threshold}))
        return
    table = Table(show_lines=False)
    for col in ("score", "issue", "title", "labels"):
        table.add_column(col, overflow="fold")
    for h in hits:
        mark = " *" if threshold is not None and h.score >= threshold else ""
        table.add_row(f"{h.score:.3f}{mark}", f"{h.repo}#{h.number or h.id}", h.title, ", ".join(h.labels))
    out.print(table)


def _searcher(store: Path, model: str | None):
    from fewtag.data.store import Store
    from fewtag.errors import InputError
    from fewtag.search.encoder import load_encoder
    from fewtag.search.persist import open_index
    from fewtag.search.searcher import Searcher

    if not store.is_file():
        raise InputError(f"store {store} does not exist; create it with `fewtag import` or `fewtag fetch`")
    db = Store(store)
    index = open_index(store)
    encoder = load_encoder(model or index.meta.get("model_id"), max_length=index.meta.get("max_length") or 256)
    return Searcher(db, encoder, index=index)


@app.command("search")
def search_cmd(
    query: str = typer.Argument(..., help="Free text to look for."),
    k: int = typer.Option(10, "-k", help="How many issues to list."),
    store: Path = typer.Option(Path(DEFAULT_STORE), "--store", help="The indexed store."),
    model: str = typer.Option(None, "--model", help="Encoder (default: the index's)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the issues nearest to a free-text query, with cosine scores."""
    searcher = _searcher(store, model)
    _print(searcher.query(query, k), as_json, None)


@app.command("similar")
def similar_cmd(
    ref: str = typer.Argument(..., help="An issue: OWNER/REPO#N."),
    k: int = typer.Option(10, "-k", help="How many issues to list."),
    store: Path = typer.Option(Path(DEFAULT_STORE), "--store", help="The indexed store."),
    model: str = typer.Option(None, "--model", help="Encoder (default: the index's)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the issues nearest to a stored issue; '*' marks likely duplicates."""
    from fewtag.search.searcher import parse_issue_ref

    repo, number = parse_issue_ref(ref)
    searcher = _searcher(store, model)
    hits = searcher.similar(repo, number, k)
    threshold = searcher.duplicate_threshold
    _print(hits, as_json, threshold)
    if not as_json and threshold is not None:
        best = hits[0].score if hits else 0.0
        verdict = (
            "likely duplicate of " + f"{hits[0].repo}#{hits[0].number or hits[0].id}"
            if best >= threshold
            else "no match"
        )
        out.print(f"duplicate check (threshold {threshold:.3f}): {verdict}")
