"""Queries: nearest issues to a free text or to a stored issue.

>>> parse_issue_ref("huggingface/datasets#7016")
('huggingface/datasets', '7016')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fewtag.data.store import Store
from fewtag.errors import ConfigError, InputError
from fewtag.search.encoder import Encoder, load_encoder
from fewtag.search.persist import SearchIndex, open_index

__all__ = ["Hit", "Searcher", "parse_issue_ref"]


def parse_issue_ref(ref: str) -> tuple[str, str]:
    """``"owner/repo#12"`` -> ``("owner/repo", "12")``.

    >>> parse_issue_ref("huggingface/datasets#7016")
    ('huggingface/datasets', '7016')
    """
    repo, sep, number = ref.strip().rpartition("#")
    if not sep or not repo or "/" not in repo or not number:
        raise InputError(f"expected an issue reference like OWNER/REPO#N, got {ref!r}")
    return repo, number


@dataclass
class Hit:
    """One search result."""

    repo: str
    id: str
    number: int | None
    title: str
    score: float
    url: str | None = None
    labels: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(float(self.score), 6)
        return d


class Searcher:
    """An index, its encoder and its store, ready to answer queries.

    Raises
    ------
    ConfigError
        The query encoder is not the one the index was built with (another
        model, or the same model with other weights: its content-hash revision
        differs).

    Examples
    --------
    >>> searcher = Searcher(store, encoder)          # doctest: +SKIP
    >>> searcher.query("load_dataset hangs", k=5)    # doctest: +SKIP
    """

    def __init__(self, store: Store, encoder: Encoder | None = None, *, index: SearchIndex | None = None):
        self.store = store
        self.index = index if index is not None else open_index(store.path)
        meta = self.index.meta
        if encoder is None:
            encoder = load_encoder(meta.get("model_id"), max_length=meta.get("max_length") or 256)
        if encoder.model_id != meta.get("model_id"):
            raise ConfigError(
                f"the index was built with {meta.get('model_id')!r}, the query "
                f"encoder is {encoder.model_id!r}; rebuild with `fewtag index --model`"
            )
        if meta.get("revision") and encoder.revision != meta["revision"]:
            raise ConfigError(
                f"the index was built with revision {meta['revision']} of "
                f"{encoder.model_id!r}, but its weights are now revision "
                f"{encoder.revision}; rebuild the index with `fewtag index`"
            )
        self.encoder = encoder

    @property
    def duplicate_threshold(self) -> float | None:
        t = self.index.meta.get("duplicate", {}).get("threshold")
        return None if t is None else float(t)

    def _hits(self, pairs: list[tuple[int, float]]) -> list[Hit]:
        hits = []
        for row, score in pairs:
            key = self.index.keys[row]
            item = self.store.get_item(key["repo"], key["id"])
            hits.append(
                Hit(
                    repo=key["repo"],
                    id=str(key["id"]),
                    number=key.get("number"),
                    title=item.title if item else "",
                    score=score,
                    url=item.url if item else None,
                    labels=item.labels if item else [],
                )
            )
        return hits

    def query_many(self, queries: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """Nearest issues for each free-text query."""
        if k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        queries = list(queries)
        if not queries:
            return []
        vecs = np.asarray(self.encoder.encode(queries), dtype=np.float32)
        return [self._hits(p) for p in self.index.search(vecs, k)]

    def query(self, query: str, k: int = 10) -> list[Hit]:
        """Nearest issues for one free-text query."""
        if not query.strip():
            raise InputError("the search query is empty")
        return self.query_many([query], k)[0]

    def similar(self, repo: str, item_id: str | int, k: int = 10) -> list[Hit]:
        """Nearest issues to a stored issue, itself excluded."""
        row = self.index.position(repo, item_id)
        if row is not None:
            vec = self.index.vectors[row : row + 1]
        else:
            item = self.store.get_item(repo, item_id)
            if item is None:
                raise InputError(f"{repo}#{item_id} is not in the store {self.store.path}; fetch or import it first")
            vec = np.asarray(self.encoder.encode([item.text]), dtype=np.float32)
        pairs = self.index.search(vec, k + 1)[0]
        pairs = [(r, s) for r, s in pairs if r != row][:k]
        return self._hits(pairs)
