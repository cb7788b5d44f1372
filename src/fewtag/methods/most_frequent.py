"""The most-frequent baseline (book ch. 2, ``DummyClassifier``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fewtag.io import read_json, write_json
from fewtag.methods.base import BaseTagger
from fewtag.registry import register

__all__ = ["MostFrequentTagger"]


@register("most-frequent")
class MostFrequentTagger(BaseTagger):
    """Scores every text with the label frequencies of the training data.

    Examples
    --------
    >>> MostFrequentTagger().fit(["a", "b", "c"], ["x", "y", "x"]).predict(["z"])
    [['x']]
    """

    def __init__(self) -> None:
        pass

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        self.prior_ = (y.sum(axis=0) / max(len(y), 1)).astype(np.float64)

    def _scores(self, texts) -> NDArray[np.float64]:
        return np.tile(self.prior_, (len(texts), 1))

    def _save_weights(self, folder: Path) -> None:
        write_json(folder / "prior.json", self.prior_.tolist())

    def _load_weights(self, folder: Path) -> None:
        self.prior_ = np.asarray(read_json(folder / "prior.json"), dtype=np.float64)
