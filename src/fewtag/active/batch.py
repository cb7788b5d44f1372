"""The batch file ``fewtag next`` writes and ``fewtag import`` takes back once filled.

A CSV (or JSON lines) file, one row per suggested item::

    fewtag_batch, repo, id, number, title, url, labels, suggested, scores, reason, choices

``labels`` is empty: the labeller fills it with one label (single-label task) or any
number separated by ``;`` or ``,`` (multi-label; ``-`` means "none of these"). A row left
empty stays unlabelled. ``choices`` repeats the allowed labels (``one of: a | b`` or
``any of: a | b``), so the file carries its own task and can be checked on import.
``fewtag_batch`` (the model version that made the suggestions) marks the file as a batch.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fewtag.errors import DataFormatError, InputError
from fewtag.io import atomic_file

if TYPE_CHECKING:
    from fewtag.active.session import Suggestion
    from fewtag.active.task import LabelTask
    from fewtag.data.store import Store

__all__ = ["BATCH_MARKER", "COLUMNS", "write_batch", "read_batch", "is_batch_file", "import_batch", "BatchImport"]

BATCH_MARKER = "fewtag_batch"
COLUMNS = [BATCH_MARKER, "repo", "id", "number", "title", "url", "labels", "suggested", "scores", "reason", "choices"]
NONE_OF_THESE = "-"


def _choices(task: LabelTask) -> str:
    return ("any of: " if task.multi_label else "one of: ") + " | ".join(task.labels)


def _parse_choices(cell: str, where: str) -> tuple[list[str], bool]:
    kind, sep, rest = str(cell or "").partition(":")
    kind = kind.strip()
    labels = [x.strip() for x in rest.split(" | ") if x.strip()] if sep else []
    if kind not in ("one of", "any of") or len(labels) < 2:
        raise DataFormatError(f"{where}: the choices cell must read 'one of: a | b' or 'any of: a | b'; got {cell!r}")
    return labels, kind == "any of"


def batch_rows(suggestions: Sequence[Suggestion], task: LabelTask) -> list[dict[str, Any]]:
    """The rows of a batch file (labels empty), in the order given."""
    rows = []
    for s in suggestions:
        rows.append(
            {
                BATCH_MARKER: s.model_version,
                "repo": s.item.repo,
                "id": s.item.id,
                "number": "" if s.item.number is None else s.item.number,
                "title": s.item.title,
                "url": s.item.url or "",
                "labels": "",
                "suggested": "; ".join(s.labels),
                "scores": "; ".join(f"{k}={v:.2f}" for k, v in sorted(s.scores.items(), key=lambda kv: -kv[1])),
                "reason": s.reason,
                "choices": _choices(task),
            }
        )
    return rows


def write_batch(suggestions: Sequence[Suggestion], task: LabelTask, path: str | Path) -> Path:
    """Write the batch as CSV (``.csv``) or JSON lines (``.jsonl``); the file appears whole or not at all.

    Raises
    ------
    InputError
        Another suffix.
    """
    path = Path(path)
    rows = batch_rows(suggestions, task)
    if path.suffix == ".csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    elif path.suffix == ".jsonl":
        text = "".join(json.dumps({**r, "labels": []}, ensure_ascii=False) + "\n" for r in rows)
    else:
        raise InputError(f"--out must end in .csv or .jsonl; got {path.name}")
    with atomic_file(path) as fh:
        fh.write(text)
    return path


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    from fewtag.data.reading import csv_rows, json_records

    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFormatError(f"{path}: not UTF-8") from None
    if path.suffix == ".csv":
        rows, lines = csv_rows(str(path), text)
        return list(zip(lines, rows))
    return [(n, r) for n, r in json_records(str(path), text) if isinstance(r, dict)]


def is_batch_file(path: str | Path) -> bool:
    """Whether ``path`` is a ``.csv`` / ``.jsonl`` file whose first row has a ``fewtag_batch`` column."""
    path = Path(path)
    if path.suffix not in (".csv", ".jsonl") or not path.is_file():
        return False
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        first = fh.readline()
    if path.suffix == ".csv":
        return BATCH_MARKER in next(csv.reader([first]), [])
    try:
        row = json.loads(first)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(row, dict) and BATCH_MARKER in row


def _split_labels(cell: Any, known: list[str]) -> list[str]:
    if isinstance(cell, list):
        return [str(x).strip() for x in cell if str(x).strip()]
    text = str(cell or "").strip()
    if not text or text in known:
        return [text] if text else []
    return [x.strip() for x in text.replace(",", ";").split(";") if x.strip()]


@dataclass
class BatchRow:
    """One filled row: the item and its labels (``[]`` for "none of these")."""

    line: int
    repo: str
    id: str
    labels: list[str]
    model_version: str | None


def read_batch(path: str | Path) -> tuple[list[BatchRow], int]:
    """The filled rows of a batch file, checked, and the number of rows left empty.

    Raises
    ------
    DataFormatError
        A row without ``repo`` / ``id`` / ``choices``, an unknown label (naming the row and the
        allowed labels), several labels in a single-label batch.
    """
    path = Path(path)
    filled: list[BatchRow] = []
    empty = 0
    for line, rec in _records(path):
        where = f"{path.name}:{line}"
        repo, item_id = str(rec.get("repo") or "").strip(), str(rec.get("id") or "").strip()
        if not repo or not item_id:
            raise DataFormatError(f"{where}: a batch row needs repo and id (the columns `fewtag next` wrote)")
        known, multi = _parse_choices(rec.get("choices", ""), where)
        given = _split_labels(rec.get("labels"), known)
        if not given:
            empty += 1
            continue
        if given == [NONE_OF_THESE]:
            if not multi:
                raise DataFormatError(f"{where}: '-' (none of these) is for multi-label batches; give one label")
            given = []
        unknown = [g for g in given if g not in known]
        if unknown:
            raise DataFormatError(f"{where}: unknown label {unknown[0]!r}; labels: {', '.join(known)}")
        if not multi and len(given) > 1:
            raise DataFormatError(f"{where}: one label per issue in this batch; got {', '.join(given)}")
        version = rec.get(BATCH_MARKER)
        filled.append(
            BatchRow(line, repo, item_id, [x for x in known if x in given], str(version) if version else None)
        )
    return filled, empty


@dataclass
class BatchImport:
    """What :func:`import_batch` did."""

    added: int
    empty: int
    ids: list[int]


def import_batch(path: str | Path, store: Store, *, who: str | None = None) -> BatchImport:
    """Append the filled rows of a batch file to the store's annotations log (source ``"import"``).

    Everything is checked first (labels, and that every item is in the store); then the rows
    are written in one transaction, or none (one per model version, when a file mixes
    batches of several rounds).

    Raises
    ------
    DataFormatError
        See :func:`read_batch`; also an item the store does not hold.
    """
    rows, empty = read_batch(path)
    for r in rows:
        if store.get_item(r.repo, r.id) is None:
            raise DataFormatError(f"{Path(path).name}:{r.line}: the store holds no item {r.repo}#{r.id}")
    ids: list[int] = []
    by_version: dict[str | None, list[BatchRow]] = {}
    for r in rows:
        by_version.setdefault(r.model_version, []).append(r)
    for version, group in by_version.items():
        ids += store.add_annotations(
            [(r.repo, r.id, r.labels) for r in group], source="import", who=who, model_version=version
        )
    return BatchImport(len(rows), empty, ids)
