"""The "review" queue: issues that ``fewtag audit`` flagged as probably mislabelled.

``fewtag audit --out DIR`` writes ``DIR/label_issues.csv`` with the columns
``repo,id,given,suggested,score,kind`` (and ``label``, the label a flag is about, when
present; other columns are ignored); ``given`` and ``suggested`` hold labels joined by ``|``
or ``,`` (either is read; a label never contains ``|``). ``fewtag annotate --review FILE`` reads
it: each row is shown with its given labels checked and the audit's suggestion beside them. A row
counts as reviewed once the item has a kept row in the annotations log saved after the file was
written (a later second than its modification time), so the queue survives a restart.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fewtag.errors import InputError

__all__ = ["ReviewRow", "read_review", "REVIEW_COLUMNS"]

REVIEW_COLUMNS = ("repo", "id", "given", "suggested", "score", "kind")


@dataclass(frozen=True)
class ReviewRow:
    """One flagged issue."""

    repo: str
    item_id: str
    given: list[str]
    suggested: list[str]
    score: float | None
    kind: str
    label: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.repo, self.item_id)


def _labels(value: str | None) -> list[str]:
    value = (value or "").strip()
    if not value:
        return []
    sep = "|" if "|" in value else ","
    return [v.strip() for v in value.split(sep) if v.strip()]


def read_review(path: str | Path) -> tuple[list[ReviewRow], str]:
    """The flagged rows (file order) and the file's time (ISO, UTC; later saves count as reviews).

    Raises
    ------
    InputError
        The file is missing, not CSV, or lacks a column of :data:`REVIEW_COLUMNS`.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"review file {p} does not exist; write it with `fewtag audit --out DIR` (DIR/label_issues.csv)"
        )
    try:
        with p.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in REVIEW_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputError(
                    f"review file {p} lacks the column(s) {', '.join(missing)}; expected {','.join(REVIEW_COLUMNS)}"
                )
            rows = []
            for n, r in enumerate(reader, start=2):
                if not (r.get("repo") or "").strip() or not (r.get("id") or "").strip():
                    raise InputError(f"review file {p} line {n}: repo and id must not be empty")
                try:
                    score = float(r["score"]) if (r.get("score") or "").strip() else None
                except ValueError:
                    raise InputError(f"review file {p} line {n}: score {r['score']!r} is not a number") from None
                rows.append(
                    ReviewRow(
                        r["repo"].strip(),
                        r["id"].strip(),
                        _labels(r.get("given")),
                        _labels(r.get("suggested")),
                        score,
                        (r.get("kind") or "").strip(),
                        (r.get("label") or "").strip(),
                    )
                )
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"review file {p} is not a UTF-8 CSV file: {exc}") from None
    since = datetime.fromtimestamp(p.stat().st_mtime, UTC).isoformat(timespec="seconds")
    return rows, since
