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
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

FORMATS = ("auto", "github", "jsonl", "csv", "semicolon")
_MAX_NUMBER = 2**63 - 1  # SQLite INTEGER


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
            items.extend(_semicolon(name, text, default_repo))
        elif fmt == "csv":
            rows, lines = csv_rows(name, text)
            items.extend(_generic(name, rows, default_repo, text_fields, label_field, lines=lines))
        else:
            records = json_records(name, text)
            if fmt == "github":
                items.extend(_github_records(name, records, repo))
            else:
                items.extend(
                    _generic(
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


def detect_format(name: str, text: str) -> str:
    """Guess the format from the file name and the first record."""
    base = name.removesuffix(".gz").lower()
    if base.endswith(".csv"):
        return "csv"
    head = text.lstrip()[:1]
    if not head or head not in "[{":
        first = text.lstrip().split("\n", 1)[0]
        if ";" in first:
            return "semicolon"
        raise DataFormatError(f"{name}: cannot tell the format (not JSON, CSV or text;label); pass --format")
    records = json_records(name, text, limit=1)
    if not records:
        return "jsonl"
    first = records[0][1]
    labels = first.get("labels") if isinstance(first, dict) else None
    if (
        isinstance(first, dict)
        and "number" in first
        and (
            "repository_url" in first
            or "html_url" in first
            or (isinstance(labels, list) and any(isinstance(lab, dict) for lab in labels))
        )
    ):
        return "github"
    return "jsonl"


# ----------------------------------------------------------------- fields
_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(s: str) -> str:
    """Lone surrogates (which SQLite cannot store as UTF-8) -> U+FFFD."""
    return s if s.isascii() else _SURROGATE.sub("\ufffd", s)


def _type(value: Any) -> str:
    return {list: "a list", dict: "an object", bool: "a boolean", float: "a number", int: "a number"}.get(
        type(value), type(value).__name__
    )


def _text(value: Any, field: str) -> str:
    """A text field: a string, null (empty) or a finite number (converted); nothing else."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    raise DataFormatError(f"field {field!r} is {_type(value)} ({_short(value)}), expected a string")


def _opt_str(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return _clean(value) if value else value
    raise DataFormatError(f"field {field!r} is {_type(value)} ({_short(value)}), expected a string")


def _short(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _id(value: Any, field: str) -> str:
    """An id: a non-empty string or an integer; a float (``1e23``) is refused, not rounded."""
    if isinstance(value, str) and value.strip():
        return _clean(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise DataFormatError(f"field {field!r} must be a string or an integer, got {_type(value)} ({_short(value)})")


def _number(value: Any, field: str = "number", *, required: bool = False) -> int | None:
    """An issue number: an integer (or a string of digits) from 0 to 2**63 - 1."""
    if value is None or value == "":
        if required:
            raise DataFormatError(f"field {field!r} is missing or null")
        return None
    if isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool):
        raise DataFormatError(f"field {field!r} must be a whole number, got {_type(value)} ({_short(value)})")
    if not 0 <= value <= _MAX_NUMBER:
        raise DataFormatError(f"field {field!r} is {_short(value)}, outside 0 .. 2**63 - 1")
    return value


def _flag(value: Any, field: str) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("", "0", "false", "no", "1", "true", "yes"):
        return value.strip().lower() in ("1", "true", "yes")
    raise DataFormatError(f"field {field!r} must be true or false, got {_short(value)}")


# ----------------------------------------------------------------- parsing
def _repo_from_url(url: Any) -> str | None:
    if not isinstance(url, str) or "/repos/" not in url:
        return None
    parts = url.split("/repos/", 1)[1].split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else None


def github_item(obj: dict[str, Any], repo: str | None = None, *, source: str | None = None) -> Item:
    """One GitHub REST issue object -> :class:`Item`.

    >>> github_item({"number": 7, "title": "Crash", "body": None,
    ...              "labels": [{"name": "bug"}], "pull_request": {},
    ...              "repository_url": "https://api.github.com/repos/o/r"}).repo
    'o/r'

    Raises
    ------
    DataFormatError
        No ``number``, or a field of the wrong type (the message names the field).
    """
    if not isinstance(obj, dict) or "number" not in obj:
        raise DataFormatError("GitHub issue object without a 'number'")
    number = _number(obj["number"], required=True)
    repo = repo or _repo_from_url(obj.get("repository_url")) or _repo_from_url(obj.get("url")) or "unknown/unknown"
    raw_labels = obj.get("labels")
    if raw_labels is not None and not isinstance(raw_labels, list):
        raise DataFormatError(
            f"field 'labels' is {_type(raw_labels)} ({_short(raw_labels)}), expected a list of label objects"
        )
    labels: list[str] = []
    for lab in raw_labels or []:
        name = lab.get("name") if isinstance(lab, dict) else lab
        if not isinstance(name, str):
            raise DataFormatError(f"a label is {_short(lab)}, expected an object with a string 'name'")
        name = _clean(name)
        if name not in labels:
            labels.append(name)
    user = obj.get("user")
    if user is not None and not isinstance(user, dict):
        raise DataFormatError(f"field 'user' is {_type(user)}, expected an object")
    return Item(
        repo=repo,
        id=str(number),
        number=number,
        title=_text(obj.get("title"), "title"),
        body=_text(obj.get("body"), "body"),
        labels=labels,
        is_pr="pull_request" in obj and obj["pull_request"] is not None,
        state=_opt_str(obj.get("state"), "state"),
        author=_opt_str((user or {}).get("login"), "user.login"),
        url=_opt_str(obj.get("html_url"), "html_url"),
        created_at=_opt_str(obj.get("created_at"), "created_at"),
        updated_at=_opt_str(obj.get("updated_at"), "updated_at"),
        source=source,
    )


def _github_records(name: str, records: list[tuple[int, Any]], repo: str | None) -> list[Item]:
    items = []
    for n, obj in records:
        try:
            items.append(github_item(obj, repo, source=name))
        except DataFormatError as exc:
            raise DataFormatError(f"{name}:{n}: not a GitHub issue object ({exc})") from None
    return items


def _labels_of(value: Any, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = value.strip()
        if value.startswith("["):
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                raise DataFormatError(f"{where}: labels field is not a JSON list") from None
        else:
            return [_clean(value)]
    if isinstance(value, list):
        out = []
        for v in value:
            name = v.get("name") if isinstance(v, dict) else v
            if isinstance(name, str):
                out.append(_clean(name))
            elif isinstance(name, int) and not isinstance(name, bool):
                out.append(str(name))
            else:
                raise DataFormatError(f"{where}: a label is {_type(name)} ({_short(name)}), expected a string")
        return out
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value)]
    raise DataFormatError(f"{where}: labels must be a list or a string, got {_type(value)} ({_short(value)})")


def _generic(
    name: str,
    rows: list[Any],
    repo: str,
    text_fields: Sequence[str] | None,
    label_field: str | None,
    *,
    lines: list[int],
) -> list[Item]:
    items = []
    for i, row in enumerate(rows):
        where = f"{name}:{lines[i]}"
        try:
            items.append(_generic_item(row, where, repo, text_fields, label_field, name))
        except DataFormatError as exc:
            msg = str(exc)
            raise DataFormatError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    return items


def _generic_item(
    row: Any, where: str, repo: str, text_fields: Sequence[str] | None, label_field: str | None, source: str
) -> Item:
    if not isinstance(row, dict):
        raise DataFormatError(f"{where}: expected an object, got {_type(row)}")
    fields = list(text_fields) if text_fields else (["text"] if "text" in row else ["title", "body"])
    missing = [f for f in fields if f not in row]
    if len(missing) == len(fields):
        raise DataFormatError(
            f"{where}: no text field ({', '.join(fields)}); fields present: {', '.join(map(str, row)) or 'none'}"
        )
    if fields == ["title", "body"]:
        title, body = _text(row.get("title"), "title"), _text(row.get("body"), "body")
    else:
        parts = [_text(row.get(f), f) for f in fields]
        title, body = "", "\n\n".join(p for p in parts if p)
    lf = label_field or ("labels" if "labels" in row else "label")
    if label_field and label_field not in row:
        raise DataFormatError(f"{where}: no label field {label_field!r}")
    labels = _labels_of(row.get(lf), where)
    raw_id = row.get("id", row.get("number"))
    if raw_id is None or raw_id == "":
        item_id = hashlib.sha256(f"{title}\n\n{body}".encode("utf-8", "replace")).hexdigest()[:16]
    else:
        item_id = _id(raw_id, "id" if "id" in row else "number")
    item_repo = row.get("repo")
    return Item(
        repo=_id(item_repo, "repo") if item_repo not in (None, "") else repo,
        id=item_id,
        title=title,
        body=body,
        labels=labels,
        number=_number(row.get("number")),
        is_pr=_flag(row.get("is_pull_request"), "is_pull_request"),
        state=_opt_str(row.get("state") or None, "state"),
        updated_at=_opt_str(row.get("updated_at") or None, "updated_at"),
        created_at=_opt_str(row.get("created_at") or None, "created_at"),
        source=source,
    )


def _semicolon(name: str, text: str, repo: str) -> list[Item]:
    items = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        body, sep, label = line.rpartition(";")
        if not sep or not body.strip() or not label.strip():
            raise DataFormatError(f"{name}:{n}: expected 'text;label', got {line[:60]!r}")
        items.append(
            Item(
                repo=repo,
                id=f"{Path(name).stem}-{n}",
                body=_clean(body.strip()),
                labels=[_clean(label.strip())],
                source=name,
            )
        )
    return items


def _dedup_keys(items: list[Item]) -> list[Item]:
    """One item per (repo, id): the newer by ``updated_at``, else the later record."""
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        key = (item.repo, item.id)
        old = seen.get(key)
        if old is None or not is_older(item.updated_at, old.updated_at):
            seen[key] = item
    return list(seen.values())
