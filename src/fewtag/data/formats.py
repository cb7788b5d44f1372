"""The readers of each import format, from parsed text to :class:`~fewtag.data.store.Item` s,
and the guess of a file's format (:func:`detect_format`).

``github``: raw GitHub REST issue objects; ``jsonl`` / ``csv``: generic records
(:func:`generic_records`); ``semicolon``: ``text;label`` lines. Every error names ``file:line``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fewtag.data.fields import as_flag, as_id, as_number, as_opt_str, as_text, clean, preview, type_name
from fewtag.data.reading import json_records
from fewtag.data.store import Item
from fewtag.errors import DataFormatError

__all__ = ["FORMATS", "detect_format", "github_item", "github_records", "generic_records", "semicolon_records"]

#: the values of ``read_items(format=...)``; "auto" asks :func:`detect_format`
FORMATS = ("auto", "github", "jsonl", "csv", "semicolon")


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
    number = as_number(obj["number"], required=True)
    repo = repo or _repo_from_url(obj.get("repository_url")) or _repo_from_url(obj.get("url")) or "unknown/unknown"
    raw_labels = obj.get("labels")
    if raw_labels is not None and not isinstance(raw_labels, list):
        raise DataFormatError(
            f"field 'labels' is {type_name(raw_labels)} ({preview(raw_labels)}), expected a list of label objects"
        )
    labels: list[str] = []
    for lab in raw_labels or []:
        name = lab.get("name") if isinstance(lab, dict) else lab
        if not isinstance(name, str):
            raise DataFormatError(f"a label is {preview(lab)}, expected an object with a string 'name'")
        name = clean(name)
        if name not in labels:
            labels.append(name)
    user = obj.get("user")
    if user is not None and not isinstance(user, dict):
        raise DataFormatError(f"field 'user' is {type_name(user)}, expected an object")
    return Item(
        repo=repo,
        id=str(number),
        number=number,
        title=as_text(obj.get("title"), "title"),
        body=as_text(obj.get("body"), "body"),
        labels=labels,
        is_pr="pull_request" in obj and obj["pull_request"] is not None,
        state=as_opt_str(obj.get("state"), "state"),
        author=as_opt_str((user or {}).get("login"), "user.login"),
        url=as_opt_str(obj.get("html_url"), "html_url"),
        created_at=as_opt_str(obj.get("created_at"), "created_at"),
        updated_at=as_opt_str(obj.get("updated_at"), "updated_at"),
        source=source,
    )


def github_records(name: str, records: list[tuple[int, Any]], repo: str | None) -> list[Item]:
    """GitHub issue objects ``(line, object)`` -> items; an error names ``name:line``."""
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
            return [clean(value)]
    if isinstance(value, list):
        out = []
        for v in value:
            name = v.get("name") if isinstance(v, dict) else v
            if isinstance(name, str):
                out.append(clean(name))
            elif isinstance(name, int) and not isinstance(name, bool):
                out.append(str(name))
            else:
                raise DataFormatError(f"{where}: a label is {type_name(name)} ({preview(name)}), expected a string")
        return out
    if isinstance(value, int) and not isinstance(value, bool):
        return [str(value)]
    raise DataFormatError(f"{where}: labels must be a list or a string, got {type_name(value)} ({preview(value)})")


def generic_records(
    name: str,
    rows: list[Any],
    repo: str,
    text_fields: Sequence[str] | None,
    label_field: str | None,
    *,
    lines: list[int],
) -> list[Item]:
    """Generic records (JSON lines, a JSON array or CSV rows) -> items; ``lines[i]`` is row i's line in ``name``."""
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
        raise DataFormatError(f"{where}: expected an object, got {type_name(row)}")
    fields = list(text_fields) if text_fields else (["text"] if "text" in row else ["title", "body"])
    missing = [f for f in fields if f not in row]
    if len(missing) == len(fields):
        raise DataFormatError(
            f"{where}: no text field ({', '.join(fields)}); fields present: {', '.join(map(str, row)) or 'none'}"
        )
    if fields == ["title", "body"]:
        title, body = as_text(row.get("title"), "title"), as_text(row.get("body"), "body")
    else:
        parts = [as_text(row.get(f), f) for f in fields]
        title, body = "", "\n\n".join(p for p in parts if p)
    lf = label_field or ("labels" if "labels" in row else "label")
    if label_field and label_field not in row:
        raise DataFormatError(f"{where}: no label field {label_field!r}")
    labels = _labels_of(row.get(lf), where)
    raw_id = row.get("id", row.get("number"))
    if raw_id is None or raw_id == "":
        item_id = hashlib.sha256(f"{title}\n\n{body}".encode("utf-8", "replace")).hexdigest()[:16]
    else:
        item_id = as_id(raw_id, "id" if "id" in row else "number")
    item_repo = row.get("repo")
    return Item(
        repo=as_id(item_repo, "repo") if item_repo not in (None, "") else repo,
        id=item_id,
        title=title,
        body=body,
        labels=labels,
        number=as_number(row.get("number")),
        is_pr=as_flag(row.get("is_pull_request"), "is_pull_request"),
        state=as_opt_str(row.get("state") or None, "state"),
        updated_at=as_opt_str(row.get("updated_at") or None, "updated_at"),
        created_at=as_opt_str(row.get("created_at") or None, "created_at"),
        source=source,
    )


def semicolon_records(name: str, text: str, repo: str) -> list[Item]:
    """``text;label`` lines -> items (split on the last ``;``); an error names ``name:line``."""
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
                body=clean(body.strip()),
                labels=[clean(label.strip())],
                source=name,
            )
        )
    return items
