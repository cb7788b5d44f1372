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
leaves the store untouched.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from fewtag.data.store import Item
from fewtag.errors import DataFormatError, InputError

__all__ = ["FORMATS", "read_items", "github_item", "detect_format"]

FORMATS = ("auto", "github", "jsonl", "csv", "semicolon")


def read_items(
    path: str | Path,
    *,
    format: str = "auto",
    repo: str | None = None,
    text_fields: Sequence[str] | None = None,
    label_field: str | None = None,
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

    Raises
    ------
    DataFormatError
        Unknown format, malformed JSON (with ``file:line``), non-UTF-8 bytes.
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
    items: list[Item] = []
    stem = path.name.split(".")[0]
    for name, text in _read_texts(path):
        if not text.strip():
            continue
        fmt = detect_format(name, text) if format == "auto" else format
        default_repo = repo or f"local/{stem}"
        if fmt == "semicolon":
            items.extend(_semicolon(name, text, default_repo))
        elif fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            items.extend(_generic(name, rows, default_repo, text_fields, label_field, first_line=2))
        else:
            records = _json_records(name, text)
            if fmt == "github":
                items.extend(_github_records(name, records, repo))
            else:
                items.extend(_generic(name, [r for _, r in records], default_repo, text_fields,
                                      label_field, lines=[n for n, _ in records]))
    if not items:
        raise InputError(f"{path} holds no records")
    return _dedup_keys(items)


# ----------------------------------------------------------------- reading
def _decode(name: str, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFormatError(f"{name}:{line}: not UTF-8 (byte {exc.start}: {data[exc.start]:#04x})") from None


def _read_texts(path: Path) -> Iterator[tuple[str, str]]:
    """(name, decoded text) for the file, or for each member of a zip."""
    raw = path.read_bytes()
    if not raw.strip():
        raise InputError(f"{path} is empty")
    if path.suffix == ".zip":
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                members = [m for m in zf.namelist() if not m.endswith("/") and "__MACOSX" not in m]
                if not members:
                    raise InputError(f"{path} is an empty zip")
                for m in sorted(members):
                    data = zf.read(m)
                    if m.endswith(".gz"):
                        data = gzip.decompress(data)
                    yield f"{path}!{m}", _decode(f"{path}!{m}", data)
        except zipfile.BadZipFile as exc:
            raise DataFormatError(f"{path}: not a valid zip ({exc})") from None
        return
    if path.suffix == ".gz":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DataFormatError(f"{path}: not a valid gzip file ({exc})") from None
    yield str(path), _decode(str(path), raw)


def detect_format(name: str, text: str) -> str:
    """Guess the format from the file name and the first record."""
    base = name.removesuffix(".gz").lower()
    if base.endswith(".csv"):
        return "csv"
    head = text.lstrip()[:1]
    if head not in "[{":
        first = text.lstrip().split("\n", 1)[0]
        if ";" in first:
            return "semicolon"
        raise DataFormatError(f"{name}: cannot tell the format (not JSON, CSV or text;label); "
                              "pass --format")
    records = _json_records(name, text, limit=1)
    if not records:
        return "jsonl"
    first = records[0][1]
    if isinstance(first, dict) and "number" in first and (
        "repository_url" in first or "html_url" in first
        or any(isinstance(lab, dict) for lab in first.get("labels") or [])
    ):
        return "github"
    return "jsonl"


def _json_records(name: str, text: str, limit: int | None = None) -> list[tuple[int, Any]]:
    """(line number, object) pairs from a JSON array or JSON lines."""
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{name}:{exc.lineno}: malformed JSON ({exc.msg})") from None
        if not isinstance(data, list):
            raise DataFormatError(f"{name}: expected a JSON array of records")
        return [(i + 1, r) for i, r in enumerate(data[:limit] if limit else data)]
    out: list[tuple[int, Any]] = []
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{name}:{n}: malformed JSON line ({exc.msg})") from None
        if limit and len(out) >= limit:
            break
    return out


# ----------------------------------------------------------------- parsing
def _repo_from_url(url: str | None) -> str | None:
    if not url or "/repos/" not in url:
        return None
    parts = url.split("/repos/", 1)[1].split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else None


def github_item(obj: dict[str, Any], repo: str | None = None, *, source: str | None = None) -> Item:
    """One GitHub REST issue object -> :class:`Item`.

    >>> github_item({"number": 7, "title": "Crash", "body": None,
    ...              "labels": [{"name": "bug"}], "pull_request": {},
    ...              "repository_url": "https://api.github.com/repos/o/r"}).repo
    'o/r'
    """
    if not isinstance(obj, dict) or "number" not in obj:
        raise DataFormatError("GitHub issue object without a 'number'")
    repo = repo or _repo_from_url(obj.get("repository_url")) or _repo_from_url(obj.get("url")) \
        or "unknown/unknown"
    labels = []
    for lab in obj.get("labels") or []:
        name = lab.get("name") if isinstance(lab, dict) else lab
        if isinstance(name, str) and name not in labels:
            labels.append(name)
    user = obj.get("user") or {}
    return Item(
        repo=repo, id=str(int(obj["number"])), number=int(obj["number"]),
        title=str(obj.get("title") or ""), body=str(obj.get("body") or ""), labels=labels,
        is_pr="pull_request" in obj and obj["pull_request"] is not None,
        state=obj.get("state"), author=user.get("login") if isinstance(user, dict) else None,
        url=obj.get("html_url"), created_at=obj.get("created_at"), updated_at=obj.get("updated_at"),
        source=source,
    )


def _github_records(name: str, records: list[tuple[int, Any]], repo: str | None) -> list[Item]:
    items = []
    for n, obj in records:
        try:
            items.append(github_item(obj, repo, source=name))
        except (DataFormatError, TypeError, ValueError) as exc:
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
            except json.JSONDecodeError:
                raise DataFormatError(f"{where}: labels field is not a JSON list") from None
        else:
            return [value]
    if isinstance(value, list):
        out = []
        for v in value:
            name = v.get("name") if isinstance(v, dict) else v
            if not isinstance(name, (str, int)):
                raise DataFormatError(f"{where}: a label is {type(name).__name__}, expected str")
            out.append(str(name))
        return out
    if isinstance(value, (int, float)):
        return [str(value)]
    raise DataFormatError(f"{where}: labels must be a list or a string, got {type(value).__name__}")


def _generic(name: str, rows: list[Any], repo: str, text_fields: Sequence[str] | None,
             label_field: str | None, *, lines: list[int] | None = None,
             first_line: int = 1) -> list[Item]:
    items = []
    for i, row in enumerate(rows):
        where = f"{name}:{lines[i] if lines else i + first_line}"
        if not isinstance(row, dict):
            raise DataFormatError(f"{where}: expected an object, got {type(row).__name__}")
        fields = list(text_fields) if text_fields else (["text"] if "text" in row else ["title", "body"])
        missing = [f for f in fields if f not in row]
        if len(missing) == len(fields):
            raise DataFormatError(f"{where}: no text field ({', '.join(fields)}); "
                                  f"fields present: {', '.join(map(str, row)) or 'none'}")
        if fields == ["title", "body"]:
            title, body = str(row.get("title") or ""), str(row.get("body") or "")
        else:
            title, body = "", "\n\n".join(str(row.get(f) or "") for f in fields if row.get(f))
        lf = label_field or ("labels" if "labels" in row else "label")
        if label_field and label_field not in row:
            raise DataFormatError(f"{where}: no label field {label_field!r}")
        labels = _labels_of(row.get(lf), where)
        raw_id = row.get("id", row.get("number"))
        if raw_id is None or raw_id == "":
            raw_id = hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()[:16]
        number = row.get("number")
        items.append(Item(repo=str(row.get("repo") or repo), id=str(raw_id), title=title, body=body,
                          labels=labels, number=int(number) if isinstance(number, int) else None,
                          is_pr=bool(row.get("is_pull_request", False)), state=row.get("state"),
                          source=name))
    return items


def _semicolon(name: str, text: str, repo: str) -> list[Item]:
    items = []
    for n, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        body, sep, label = line.rpartition(";")
        if not sep or not body.strip() or not label.strip():
            raise DataFormatError(f"{name}:{n}: expected 'text;label', got {line[:60]!r}")
        items.append(Item(repo=repo, id=f"{Path(name).stem}-{n}", body=body.strip(),
                          labels=[label.strip()], source=name))
    return items


def _dedup_keys(items: list[Item]) -> list[Item]:
    """Keep the last version of each (repo, id): later records replace earlier ones."""
    seen: dict[tuple[str, str], Item] = {}
    for item in items:
        seen[(item.repo, item.id)] = item
    return list(seen.values())
