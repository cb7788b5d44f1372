"""Embedding cache: an in-process dict plus, optionally, the SQLite store.

Vectors are keyed by ``(model id, revision, max_length, sha256(text))``, where
``revision`` is :func:`fewtag.models.model_revision`, a content hash of the
weights: a re-weighted model of the same size never reads its base's vectors.
The in-process layer always works and keeps the most recently used
``FEWTAG_EMBED_MEMORY`` vectors per model (default 100,000, about 150 MB for
384-dimensional vectors), so a long-running server does not grow without end;
the persistent layer is on when :func:`configure_cache` was given a store path,
or when the environment variable ``FEWTAG_EMBED_CACHE`` names one.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["configure_cache", "EmbeddingCache", "text_hash", "CACHE_ENV", "MEMORY_ENV"]

CACHE_ENV = "FEWTAG_EMBED_CACHE"
MEMORY_ENV = "FEWTAG_EMBED_MEMORY"
_UNSET = object()
_configured: object = _UNSET  # None (off), a path string, or _UNSET (read the env var)
_stores: dict[str, object] = {}
_lock = threading.Lock()


def text_hash(text: str) -> str:
    """sha256 hex digest of a text (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def configure_cache(path: str | Path | None) -> None:
    """Turn the persistent embedding cache on (a store path) or off (``None``).

    Parameters
    ----------
    path : str or Path or None
        A fewtag SQLite store (created if missing); ``None`` keeps only the
        in-process cache.

    Examples
    --------
    >>> configure_cache(None)
    """
    global _configured
    with _lock:
        _configured = None if path is None else str(path)


def _store_path() -> str | None:
    if _configured is _UNSET:
        return os.environ.get(CACHE_ENV) or None
    return _configured  # type: ignore[return-value]


def _store(path: str):
    from fewtag.data.store import Store

    with _lock:
        if path not in _stores:
            _stores[path] = Store(path)
        return _stores[path]


class EmbeddingCache:
    """Cache for one ``(model id, revision, max_length)``.

    Parameters
    ----------
    model_id, revision : str
    max_length : int
    """

    #: process-wide memory: key -> {text hash -> vector}, least recently used first
    _memory: dict[tuple[str, str, int], OrderedDict[str, NDArray[np.float32]]] = {}

    def __init__(self, model_id: str, revision: str, max_length: int):
        self.key = (model_id, revision, int(max_length))
        self.max_items = int(os.environ.get(MEMORY_ENV) or 100_000)

    @property
    def memory(self) -> OrderedDict[str, NDArray[np.float32]]:
        return self._memory.setdefault(self.key, OrderedDict())

    def _remember(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        memory = self.memory
        with _lock:
            memory.update(vectors)
            for h in vectors:
                memory.move_to_end(h)
            while len(memory) > self.max_items:
                memory.popitem(last=False)

    def get(self, hashes: Sequence[str]) -> dict[str, NDArray[np.float32]]:
        """Vectors found for ``hashes`` (memory first, then the store)."""
        memory = self.memory
        with _lock:
            found = {h: memory[h] for h in hashes if h in memory}
            for h in found:
                memory.move_to_end(h)
        missing = [h for h in dict.fromkeys(hashes) if h not in found]
        path = _store_path()
        if missing and path:
            stored = _store(path).get_embeddings(*self.key, missing)
            self._remember(stored)
            found.update(stored)
        return found

    def put(self, vectors: dict[str, NDArray[np.float32]]) -> None:
        """Remember new vectors in memory and, when configured, in the store."""
        if not vectors:
            return
        self._remember(vectors)
        path = _store_path()
        if path:
            _store(path).put_embeddings(*self.key, vectors)

    @classmethod
    def clear_memory(cls) -> None:
        """Forget the in-process vectors (the store is untouched)."""
        cls._memory.clear()
