"""Read unlabelled texts from a prepared dataset or from a file (labels ignored)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from fewtag.data.text import TextSpec
from fewtag.errors import DataFormatError, InputError

__all__ = ["read_texts", "read_items"]


def _row_text(row: dict, where: str, text: TextSpec | None = None) -> str:
    if text is not None and (row.get("text") is not None or "title" in row):
        return text.text_of(row, where)
    if "text" in row and row["text"] is not None:
        return str(row["text"])
    if "title" in row:
        body = row.get("body") or ""
        return f"{row['title'] or ''}\n\n{body}".strip()
    raise DataFormatError(f"{where}: no 'text' (or 'title'/'body') field; fields: {', '.join(row)}")


def read_texts(path: str | Path, *, splits: tuple[str, ...] = ("unsup",), text: TextSpec | None = None) -> list[str]:
    """Texts to learn from without labels.

    Parameters
    ----------
    path : str or Path
        A prepared dataset folder (its ``splits`` are read, ``unsup`` by
        default), or a ``.jsonl`` / ``.csv`` file with a ``text`` column (or
        ``title`` + ``body``), or a ``.txt`` file with one text per line.
    splits : tuple of str
        Splits of a prepared folder to read.
    text : TextSpec, optional
        Turn a file's records into texts with these settings (a model's own
        text path); by default ``title + body`` as they are.

    Returns
    -------
    list of str (non-empty texts only)

    Raises
    ------
    InputError
        Missing path, unknown format or no texts.
    """
    return read_items(path, splits=splits, text=text)[1]


def _row_id(row: dict, n: int) -> str:
    for key in ("id", "number"):
        if row.get(key) is not None:
            return str(row[key])
    return str(n)


def read_items(
    path: str | Path, *, splits: tuple[str, ...] = ("unsup",), text: TextSpec | None = None
) -> tuple[list[str], list[str]]:
    """``(ids, texts)`` from the same sources as :func:`read_texts`."""
    path = Path(path)
    if not path.exists():
        raise InputError(
            f"{path} does not exist: expected a prepared dataset folder or a .jsonl/.csv/.txt file of texts"
        )
    items: list[tuple[str, str]] = []
    if path.is_dir():
        from fewtag.data.dataset import SPLITS, load_prepared

        bad = [s for s in splits if s not in SPLITS]
        if bad:
            raise InputError(f"unknown split(s) {', '.join(bad)}; splits: {', '.join(SPLITS)}")
        data = load_prepared(path)
        for name in splits:
            split = getattr(data, name)
            items.extend(zip(split.ids, split.texts))
    elif path.suffix == ".jsonl":
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise DataFormatError(f"{path}:{n}: malformed JSON ({exc.msg})") from exc
                    items.append((_row_id(row, n), _row_text(row, f"{path}:{n}", text)))
    elif path.suffix == ".csv":
        with open(path, encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.DictReader(fh), 2):
                items.append((_row_id(row, n), _row_text(row, f"{path}:{n}", text)))
    elif path.suffix == ".txt":
        items = [(str(n), t) for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]
    else:
        raise InputError(
            f"cannot read texts from {path.name}: expected a prepared dataset folder or a .jsonl, .csv or .txt file"
        )
    items = [(i, t) for i, t in items if t.strip()]
    if not items:
        raise InputError(f"no texts found in {path}" + (f" (splits {', '.join(splits)})" if path.is_dir() else ""))
    return [i for i, _ in items], [t for _, t in items]
