"""A prepared dataset: splits, label set and nested training slices.

On disk (written by ``fewtag prepare``)::

    DIR/train.jsonl  valid.jsonl  test.jsonl  unsup.jsonl   {"id", "text", "labels": [...]}
    DIR/labels.json   {"labels": [...], "multi_label": bool, "counts": {split: {label: n}}}
    DIR/slices.json   {"seed": 0, "sizes": [8, 16, ...], "slices": {"8": [train row indices], ..., "all": [...]}}
    DIR/config.toml   the configuration used

A labelled file (JSONL/CSV/``text;label``) can stand in for a prepared folder:
:func:`fewtag.data.loading.load_data` then splits it with a seed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fewtag.errors import DataFormatError, InputError
from fewtag.io import read_json
from fewtag.labels import binarize

__all__ = ["Split", "PreparedDataset", "load_prepared", "SPLITS"]

SPLITS = ("train", "valid", "test", "unsup")


@dataclass
class Split:
    """Texts with their label lists (empty lists for ``unsup``)."""

    texts: list[str] = field(default_factory=list)
    labels: list[list[str]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, indices: list[int] | np.ndarray) -> Split:
        return Split(
            [self.texts[i] for i in indices], [self.labels[i] for i in indices], [self.ids[i] for i in indices]
        )

    def y(self, classes: list[str]) -> np.ndarray:
        """Indicator matrix of shape ``(len(self), len(classes))``."""
        return binarize(self.labels, classes)

    def targets(self, multi_label: bool) -> list[list[str]] | list[str]:
        """Labels in the form ``BaseTagger.fit`` takes."""
        return self.labels if multi_label else [labs[0] for labs in self.labels]


@dataclass
class PreparedDataset:
    labels: list[str]
    multi_label: bool
    train: Split
    valid: Split
    test: Split
    unsup: Split
    slices: dict[str, list[int]]
    seed: int = 0
    path: Path | None = None

    def slice_sizes(self) -> list[str]:
        return list(self.slices)


def read_split(path: Path) -> Split:
    split = Split()
    if not path.exists():
        return split
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                split.texts.append(str(row["text"]))
                split.labels.append([str(x) for x in row.get("labels", [])])
                split.ids.append(str(row.get("id", n)))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DataFormatError(f"{path}:{n}: bad split row ({exc})") from exc
    return split


def load_prepared(folder: str | Path) -> PreparedDataset:
    """Read a folder written by ``fewtag prepare``."""
    folder = Path(folder)
    for name in ("labels.json", "slices.json", "train.jsonl"):
        if not (folder / name).is_file():
            raise InputError(f"{folder} is not a prepared dataset: {name} is missing (run `fewtag prepare` first)")
    meta = read_json(folder / "labels.json")
    slices = read_json(folder / "slices.json")
    splits = {s: read_split(folder / f"{s}.jsonl") for s in SPLITS}
    return PreparedDataset(
        labels=list(meta["labels"]),
        multi_label=bool(meta["multi_label"]),
        slices={k: list(v) for k, v in slices["slices"].items()},
        seed=int(slices.get("seed", 0)),
        path=folder,
        **splits,
    )
