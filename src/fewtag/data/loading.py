"""One entry point for training data: a prepared folder, or a labelled file split on the fly.

It sits above both :mod:`fewtag.data.dataset` (the folder format) and
:mod:`fewtag.data.prepare` (the splitting), so neither imports the other's
caller: ``dataset`` knows nothing of ``prepare``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fewtag.data.dataset import PreparedDataset, load_prepared
from fewtag.data.prepare import prepare_from_file

__all__ = ["load_data"]


def load_data(path: str | Path, *, seed: int = 0, **file_options: Any) -> PreparedDataset:
    """A prepared folder, or a labelled file split on the fly with ``seed``.

    Parameters
    ----------
    path : a folder written by ``fewtag prepare``, or a JSONL/CSV/``text;label`` file
    seed : int
        Seed of the train/valid/test split of a file (a folder keeps its own splits).
    **file_options
        Passed to the importer: ``format``, ``text_fields``, ``label_field``.

    Raises
    ------
    InputError
        The folder is not a prepared dataset, or the file is missing or unusable.
    """
    path = Path(path)
    if path.is_dir():
        return load_prepared(path)
    return prepare_from_file(path, seed=seed, **file_options)
