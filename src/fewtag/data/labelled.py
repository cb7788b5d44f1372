"""A user's labelled file as training rows, every row kept (``fewtag train FILE``).

Unlike :func:`fewtag.data.prepare.prepare_from_file`, nothing is split off:
``train`` fits on all rows and tunes on out-of-fold scores
(:mod:`fewtag.crossval`). Texts are assembled by the model's
:class:`~fewtag.data.text.TextSpec`, the function ``predict`` uses later.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.data.text import TextSpec
from fewtag.errors import InputError
from fewtag.labels import binarize

__all__ = ["LabelledRows", "read_labelled_file"]


@dataclass
class LabelledRows:
    """Labelled rows of one file, with the texts the model will see.

    Attributes
    ----------
    texts, labels, ids : one entry per labelled row (``labels``: a list per row)
    classes : sorted label names kept (each with at least ``min_count`` rows)
    multi_label : bool
    unlabelled : texts of rows without a kept label
    notes : what was dropped and why, for the output
    """

    texts: list[str]
    labels: list[list[str]]
    ids: list[str]
    classes: list[str]
    multi_label: bool
    unlabelled: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def y(self) -> np.ndarray:
        """Indicator matrix of shape ``(len(self), len(self.classes))``."""
        return binarize(self.labels, self.classes)

    def targets(self) -> list[list[str]] | list[str]:
        """Labels in the form ``BaseTagger.fit`` takes."""
        return self.labels if self.multi_label else [labs[0] for labs in self.labels]


def read_labelled_file(
    path: str | Path, *, text: TextSpec | None = None, min_count: int = 2, **file_options: Any
) -> LabelledRows:
    """Read a JSONL/CSV/``text;label``/GitHub dump file into training rows.

    Parameters
    ----------
    path : the file (``.gz``/``.zip`` too)
    text : how records become texts (default ``TextSpec()``)
    min_count : labels with fewer rows are dropped (a label seen once cannot be cross-validated)
    **file_options : ``format``, ``text_fields``, ``label_field`` for the importer

    Raises
    ------
    InputError
        No labelled rows, or fewer than two labels with ``min_count`` rows.
    """
    from fewtag.data.importers import read_items

    spec = text or TextSpec()
    items = read_items(path, **file_options)
    counts = Counter(lab for it in items for lab in set(it.labels))
    classes = sorted(lab for lab, n in counts.items() if n >= min_count)
    notes = []
    rare = sorted(lab for lab, n in counts.items() if n < min_count)
    if rare:
        notes.append(
            f"left out {len(rare)} label(s) with fewer than {min_count} rows: {', '.join(rare[:10])}"
            + (" …" if len(rare) > 10 else "")
        )
    keep = set(classes)
    rows, unlabelled, n_empty = [], [], 0
    for it in items:
        t = spec.text_of({"title": it.title, "body": it.body}, f"{path}: {it.repo}#{it.id}")
        if not t.strip():
            n_empty += 1
            continue
        labs = [lab for lab in dict.fromkeys(it.labels) if lab in keep]
        if labs:
            rows.append((f"{it.repo}#{it.id}", t, labs))
        else:
            unlabelled.append(t)
    if n_empty:
        notes.append(f"left out {n_empty} row(s) with no text")
    if not rows:
        raise InputError(
            f"{path}: no labelled rows to train on ({len(items)} rows read, none with a label "
            f"that {min_count} or more rows carry)"
        )
    if len(classes) < 2:
        raise InputError(
            f"{path}: need at least 2 labels with {min_count}+ rows each to train; "
            f"found {len(classes)}: {', '.join(classes) or 'none'}"
        )
    multi = any(len(r[2]) > 1 for r in rows)
    return LabelledRows(
        texts=[r[1] for r in rows],
        labels=[r[2] for r in rows],
        ids=[r[0] for r in rows],
        classes=classes,
        multi_label=multi,
        unlabelled=unlabelled,
        notes=notes,
    )
