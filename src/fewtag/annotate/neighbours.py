"""The labelled issues nearest to the one on screen (TF-IDF cosine), shown beside it.

Rebuilt by the retrain worker from what is labelled, so the request path only transforms one text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Neighbour", "NearestLabelled"]


@dataclass(frozen=True)
class Neighbour:
    """One labelled issue near the shown one."""

    repo: str
    item_id: str
    title: str
    labels: list[str]
    similarity: float
    url: str | None = None


class NearestLabelled:
    """A TF-IDF index over labelled issues.

    Parameters
    ----------
    rows : sequence of (item, labels)
        ``item`` has ``repo``, ``id``, ``title`` and ``url``.
    texts : sequence of str
        The model input of each row (``TextSpec.text_of``).

    Examples
    --------
    >>> from fewtag.data.store import Item
    >>> rows = [(Item("o/r", "1", "crash on load"), ["bug"]), (Item("o/r", "2", "typo in docs"), ["docs"])]
    >>> index = NearestLabelled(rows, ["crash on load", "typo in docs"])
    >>> [n.item_id for n in index.query("load crash again", k=1)]
    ['1']
    """

    def __init__(self, rows: Sequence[tuple[Any, list[str]]], texts: Sequence[str]):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.rows = list(rows)
        self._vectorizer: Any = None
        self._matrix: Any = None
        if self.rows and any(t.strip() for t in texts):
            self._vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, max_features=50_000)
            try:
                self._matrix = self._vectorizer.fit_transform(list(texts))
            except ValueError:  # only stop words
                self._vectorizer = None

    def __len__(self) -> int:
        return len(self.rows)

    def query(self, text: str, *, k: int = 3, exclude: tuple[str, str] | None = None) -> list[Neighbour]:
        """The ``k`` most similar labelled issues (similarity > 0), most similar first."""
        if self._vectorizer is None or self._matrix is None:
            return []
        sims = np.asarray((self._matrix @ self._vectorizer.transform([text]).T).todense()).ravel()
        out: list[Neighbour] = []
        for i in np.argsort(-sims, kind="stable"):
            if sims[i] <= 0 or len(out) >= k:
                break
            item, labels = self.rows[int(i)]
            if exclude is not None and (item.repo, str(item.id)) == exclude:
                continue
            out.append(Neighbour(item.repo, str(item.id), item.title, list(labels), float(sims[i]), item.url))
        return out
