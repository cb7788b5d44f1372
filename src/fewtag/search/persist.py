"""The search index on disk and in memory: vectors, their keys, the FAISS index.

The index lives in a folder beside the SQLite store (``fewtag.db`` ->
``fewtag.db.index/``) and holds

* ``index.faiss`` -- the FAISS index (written with ``faiss.write_index``);
* ``vectors.npy`` -- the L2-normalised float32 vectors, row ``i`` for key ``i``
  (kept so that a rerun only embeds new or edited issues);
* ``ids.json`` -- one ``{"repo", "id", "number", "hash", "updated_at"}`` per row;
* ``meta.json`` -- encoder id and revision (a content hash of its weights),
  dimension, data fingerprint, the index kind (``flat`` or ``ivf`` with
  ``nlist``, ``nprobe`` and measured recall@10 against exact search) and the
  tuned duplicate threshold.

The folder is replaced atomically (:func:`fewtag.io.atomic_dir`): a reader
sees the old index or the new one, never a mix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fewtag.errors import InputError, ModelFileError
from fewtag.io import atomic_dir, read_json, write_json
from fewtag.search.faiss_build import import_faiss

__all__ = ["INDEX_SUFFIX", "SearchIndex", "index_folder", "open_index"]

INDEX_SUFFIX = ".index"


def index_folder(store_path: str | Path) -> Path:
    """The index folder that belongs to a store file: ``<store>.index``.

    >>> index_folder("data/fewtag.db").as_posix()
    'data/fewtag.db.index'
    """
    p = Path(store_path)
    return p.with_name(p.name + INDEX_SUFFIX)


class SearchIndex:
    """Vectors of the store's issues and the FAISS index over them.

    Attributes
    ----------
    keys : list of dict
        ``{"repo", "id", "number", "hash", "updated_at"}`` per row.
    vectors : ndarray of shape (n, dim), float32
    meta : dict
        Encoder id and revision, fingerprint, index kind, duplicate threshold.
    """

    def __init__(self, index: Any, keys: list[dict[str, Any]], vectors: NDArray[np.float32], meta: dict[str, Any]):
        self.index = index
        self.keys = keys
        self.vectors = vectors
        self.meta = meta
        self._pos = {(k["repo"], str(k["id"])): i for i, k in enumerate(keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def position(self, repo: str, item_id: str | int) -> int | None:
        """The row of an issue, or ``None`` when it is not indexed."""
        return self._pos.get((repo, str(item_id)))

    def search(self, queries: NDArray[np.float32], k: int) -> list[list[tuple[int, float]]]:
        """Top-``k`` ``(row, score)`` pairs per query row (scores are cosines)."""
        if len(self) == 0:
            return [[] for _ in range(len(queries))]
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if q.shape[1] != self.vectors.shape[1]:
            raise InputError(
                f"query vectors have dimension {q.shape[1]}, the index "
                f"{self.vectors.shape[1]}; rebuild the index with the same encoder"
            )
        scores, rows = self.index.search(q, min(k, len(self)))
        return [[(int(r), float(s)) for r, s in zip(rr, ss) if r >= 0] for rr, ss in zip(rows, scores)]

    def save(self, folder: str | Path) -> Path:
        """Write the index folder atomically."""
        faiss = import_faiss()
        folder = Path(folder)
        with atomic_dir(folder) as tmp:
            faiss.write_index(self.index, str(tmp / "index.faiss"))
            np.save(tmp / "vectors.npy", self.vectors, allow_pickle=False)
            write_json(tmp / "ids.json", self.keys)
            write_json(tmp / "meta.json", self.meta)
        return folder

    def save_meta(self, folder: str | Path) -> None:
        """Rewrite only ``meta.json`` (after tuning the duplicate threshold)."""
        write_json(Path(folder) / "meta.json", self.meta)

    @classmethod
    def load(cls, folder: str | Path) -> SearchIndex:
        """Read an index folder written by :meth:`save`.

        Raises
        ------
        ModelFileError
            Missing or corrupt files.
        """
        faiss = import_faiss()
        folder = Path(folder)
        if not (folder / "meta.json").is_file():
            raise ModelFileError(f"no search index at {folder}; build one with `fewtag index`")
        try:
            meta = read_json(folder / "meta.json")
            keys = read_json(folder / "ids.json")
            vectors = np.load(folder / "vectors.npy", allow_pickle=False).astype(np.float32)
            index = faiss.read_index(str(folder / "index.faiss"))
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelFileError(
                f"the search index at {folder} is corrupt ({exc}); rebuild it with `fewtag index`"
            ) from exc
        if len(keys) != vectors.shape[0] or index.ntotal != len(keys):
            raise ModelFileError(
                f"the search index at {folder} is inconsistent "
                f"({len(keys)} ids, {vectors.shape[0]} vectors, {index.ntotal} "
                "indexed); rebuild it with `fewtag index`"
            )
        if meta.get("kind") == "ivf" and meta.get("nprobe"):
            index.nprobe = int(meta["nprobe"])
        return cls(index, keys, vectors, meta)


def open_index(store_path: str | Path) -> SearchIndex:
    """Load the index that belongs to a store file."""
    return SearchIndex.load(index_folder(store_path))
