"""Export the store as JSON lines, CSV or Parquet, in a ``datasets``-friendly layout.

One row per item with the columns :data:`COLUMNS`::

    id, repo, number, title, body, text, labels, is_pull_request, state, created_at, updated_at

``labels`` is a list of strings (JSON lines, Parquet); CSV has no lists, so
there it is a JSON array in a string (``json.loads`` it back), and ``datasets``
infers numeric-looking ``id`` values as integers (pass ``features=`` to keep
strings). Each of these
loads with ``datasets.load_dataset("json" | "csv" | "parquet", data_files=PATH)``.
Files are written atomically: a failed export leaves no partial file.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fewtag.data.store import Item, Store
from fewtag.errors import InputError, MissingDependencyError
from fewtag.io import atomic_file

__all__ = ["export_store", "export_rows", "COLUMNS", "FORMATS"]

COLUMNS = (
    "id",
    "repo",
    "number",
    "title",
    "body",
    "text",
    "labels",
    "is_pull_request",
    "state",
    "created_at",
    "updated_at",
)
FORMATS = ("jsonl", "csv", "parquet")


def _row(item: Item) -> dict[str, Any]:
    return {
        "id": item.id,
        "repo": item.repo,
        "number": item.number,
        "title": item.title or "",
        "body": item.body or "",
        "text": item.text,
        "labels": list(item.labels),
        "is_pull_request": bool(item.is_pr),
        "state": item.state,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def export_rows(store: Store, *, repo: str | None = None, include_prs: bool = True) -> Iterator[dict[str, Any]]:
    """The export rows, in store order (repo, then number).

    >>> s = Store(":memory:"); _ = s.upsert_items([Item("o/r", "1", title="Crash", number=1)])
    >>> next(export_rows(s))["text"]
    'Crash'
    """
    for item in store.items(repo, include_prs=include_prs):
        yield _row(item)


def export_store(
    store: Store,
    out: str | Path,
    *,
    format: str = "jsonl",
    repo: str | None = None,
    include_prs: bool = True,
) -> int:
    """Write the store's items to ``out``; ``"-"`` writes JSON lines/CSV to stdout.

    Parameters
    ----------
    store : Store
    out : path or "-"
    format : {"jsonl", "csv", "parquet"}
    repo : str, optional
        Only this repository.
    include_prs : bool
        Keep pull requests (default) or only issues.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    InputError
        Unknown format, Parquet to stdout, or no matching items.
    """
    if format not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}; got {format!r}")
    if repo is not None and repo not in store.repos():
        known = ", ".join(store.repos()) or "none"
        raise InputError(f"the store has no items of {repo}; repositories in it: {known}")
    rows = list(export_rows(store, repo=repo, include_prs=include_prs))
    if not rows:
        raise InputError("nothing to export: the store has no matching items")
    to_stdout = str(out) == "-"
    if format == "parquet":
        if to_stdout:
            raise InputError("Parquet cannot go to stdout; give --out FILE.parquet")
        _write_parquet(rows, Path(out))
        return len(rows)
    if to_stdout:
        _write_text(rows, sys.stdout, format)
    else:
        with atomic_file(out, "w", encoding="utf-8") as fh:
            _write_text(rows, fh, format)
    return len(rows)


def _write_text(rows: list[dict[str, Any]], fh: Any, format: str) -> None:
    if format == "jsonl":
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    writer = csv.DictWriter(fh, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {
                **r,
                "labels": json.dumps(r["labels"], ensure_ascii=False),
                "number": "" if r["number"] is None else r["number"],
            }
        )


def _write_parquet(rows: list[dict[str, Any]], out: Path) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingDependencyError("pyarrow is needed for Parquet export: pip install 'fewtag[parquet]'") from exc
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("repo", pa.string()),
            ("number", pa.int64()),
            ("title", pa.string()),
            ("body", pa.string()),
            ("text", pa.string()),
            ("labels", pa.list_(pa.string())),
            ("is_pull_request", pa.bool_()),
            ("state", pa.string()),
            ("created_at", pa.string()),
            ("updated_at", pa.string()),
        ]
    )
    table = pa.Table.from_pylist(rows, schema=schema)
    with atomic_file(out, "wb") as fh:
        pq.write_table(table, fh)
