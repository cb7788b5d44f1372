"""Read issues and labelled texts from files into :class:`~fewtag.data.store.Item` s.

Formats
-------
``github``
    Raw GitHub REST API issue objects, as a JSON array or JSON lines (also inside
    ``.zip`` / ``.gz``): label objects become names, a ``pull_request`` key marks a PR.
``jsonl`` / ``csv``
    Generic records with ``text`` (or ``title`` + ``body``), labels as a ``labels``
    list or one ``label`` string, an optional ``id``. A JSON array file works too.
``semicolon``
    ``text;label`` lines (the emotion data set).

Everything is parsed and checked before anything is written, so a bad line
leaves the store untouched. Every problem is one :class:`~fewtag.errors.DataFormatError`
naming ``file:line``: malformed JSON or CSV (an unterminated quote included), JSON
nested too deeply, a field of the wrong type (a list where text is expected, a float
or a 24-digit number as an id). Text fields take strings; numbers are converted
with ``str``; lists, objects and booleans are refused. Lone UTF-16 surrogates
(``"\\ud800"`` in JSON) become U+FFFD.

Archives are read as capped streams (:mod:`fewtag.data.reading`): at most
``FEWTAG_MAX_DECOMPRESSED`` bytes (default 2 GB) and ``FEWTAG_MAX_ARCHIVE_MEMBERS``
files (default 10,000).

This module reads a file and writes the store; the readers of each format are in
:mod:`fewtag.data.formats`, the field checks in :mod:`fewtag.data.fields`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fewtag.data.formats import FORMATS, detect_format, generic_records, github_item, github_records, semicolon_records
from fewtag.data.reading import (
    DEFAULT_MAX_DECOMPRESSED,
    DEFAULT_MAX_MEMBERS,
    Budget,
    csv_rows,
    json_records,
    max_archive_members,
    max_decompressed_bytes,
    parse_size,
    read_texts,
)
from fewtag.data.store import Item, Store, UpsertCounts, is_older
from fewtag.errors import DataFormatError, InputError

__all__ = [
    "FORMATS",
    "read_items",
    "import_file",
    "ImportResult",
    "github_item",
    "detect_format",
    "max_decompressed_bytes",
    "max_archive_members",
    "parse_size",
    "DEFAULT_MAX_DECOMPRESSED",
    "DEFAULT_MAX_MEMBERS",
]


def read_items(
    path: str | Path,
    *,
    format: str = "auto",
    repo: str | None = None,
    text_fields: Sequence[str] | None = None,
    label_field: str | None = None,
    max_bytes: int | None = None,
    max_members: int | None = None,
) -> list[Item]:
    """Parse a file into items.

    Parameters
    ----------
    path : path to .json/.jsonl/.csv/.txt, optionally .gz or a .zip of them
    format : {"auto", "github", "jsonl", "csv", "semicolon"}
    repo : str, optional
        ``OWNER/NAME`` for the items; GitHub dumps default to their ``repository_url``,
        other files to ``local/<file stem>``.
    text_fields : list of str, optional
        Fields joined (by a blank line) into the text. Default ``text``, else ``title`` + ``body``.
    label_field : str, optional
        Field holding the label(s). Default ``labels``, else ``label``.
    max_bytes : int, optional
        Most bytes a ``.zip`` / ``.gz`` may expand to; default ``FEWTAG_MAX_DECOMPRESSED`` or 2 GB.
    max_members : int, optional
        Most files in a zip; default ``FEWTAG_MAX_ARCHIVE_MEMBERS`` or 10,000.

    Raises
    ------
    DataFormatError
        Unknown format, malformed JSON or CSV, a field of the wrong type (with ``file:line``),
        non-UTF-8 bytes, an archive past the limits.
    InputError
        Missing or empty file.
    """
    if format not in FORMATS:
        raise DataFormatError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if path.is_dir():
        raise InputError(f"{path} is a folder; give a file")
    limit = Budget(path, max_decompressed_bytes() if max_bytes is None else max_bytes)
    members = max_archive_members() if max_members is None else max_members
    items: list[Item] = []
    stem = path.name.split(".")[0]
    for name, text in read_texts(path, limit, members):
        if not text.strip():
            continue
        fmt = detect_format(name, text) if format == "auto" else format
        default_repo = repo or f"local/{stem}"
        if fmt == "semicolon":
            items.extend(semicolon_records(name, text, default_repo))
        elif fmt == "csv":
            rows, lines = csv_rows(name, text)
            items.extend(generic_records(name, rows, default_repo, text_fields, label_field, lines=lines))
        else:
            records = json_records(name, text)
            if fmt == "github":
                items.extend(github_records(name, records, repo))
            else:
                items.extend(
                    generic_records(
                        name,
                        [r for _, r in records],
                        default_repo,
                        text_fields,
                        label_field,
                        lines=[n for n, _ in records],
                    )
                )
    if not items:
        raise InputError(f"{path} holds no records")
    return _dedup_keys(items)


@dataclass
class ImportResult:
    """What :func:`import_file` did: items read and the store's counts (``older``: kept newer rows)."""

    items: int
    counts: UpsertCounts


def import_file(path: str | Path, store: str | Path, **options: Any) -> ImportResult:
    """Read ``path`` (see :func:`read_items`, which takes ``options``) and upsert it into ``store``.

    All or nothing: the file is parsed and checked before the store is opened, the
    write is one transaction, and a store file this call created is removed again
    when the write fails.
    """
    items = read_items(path, **options)
    target = Path(store)
    existed = str(store) == ":memory:" or target.exists()
    try:
        with Store(store) as s:
            counts = s.upsert_items(items)
    except BaseException:
        if not existed:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
        raise
    return ImportResult(len(items), counts)


def _dedup_keys(items: list[Item]) -> list[Item]:
    """One item per (repo, id): the newer by ``updated_at``, else the later record."""
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        key = (item.repo, item.id)
        old = seen.get(key)
        if old is None or not is_older(item.updated_at, old.updated_at):
            seen[key] = item
    return list(seen.values())
