"""Fixtures for the bench tests: synthetic prepared folders and throwaway test methods."""

from __future__ import annotations

import numpy as np
import pytest

from fewtag import registry
from fewtag.errors import ModelNotFoundError
from fewtag.methods.base import BaseTagger
from tests.eval.builders import KEYWORDS, write_prepared


class KeywordZeroShot(BaseTagger):
    """Zero-shot stand-in: scores labels by keyword hits; records how it was fitted."""

    needs_training = False
    fits: list[dict] = []

    def __init__(self, *, model: str = "default-model"):
        self.model = model

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        type(self).fits.append(
            {
                "n_texts": len(texts),
                "model": self.model,
                "validation": validation is not None,
                "unlabelled": len(unlabelled),
            }
        )

    def _scores(self, texts):
        out = np.full((len(texts), len(self.classes_)), 0.1)
        for i, t in enumerate(texts):
            words = set(t.split())
            for j, c in enumerate(self.classes_):
                out[i, j] += len(words & set(KEYWORDS.get(c, "").split()))
        return out / out.sum(axis=1, keepdims=True) if not self.multi_label_ else out / out.max()


class FailingTagger(BaseTagger):
    """Always fails the way a method without its model offline does."""

    def __init__(self) -> None:
        pass

    def _fit(self, texts, y, *, validation, unlabelled) -> None:
        raise ModelNotFoundError("model 'big-nli' is not available offline; use zero-shot-embed instead")

    def _scores(self, texts):  # pragma: no cover - never fitted
        raise AssertionError


@pytest.fixture
def test_methods(monkeypatch):
    """Register the test methods for one test only (the global registry is restored after)."""
    KeywordZeroShot.fits = []
    for name, cls in (("test-zero-shot", KeywordZeroShot), ("test-failing", FailingTagger)):
        monkeypatch.setattr(cls, "name", name, raising=False)
        monkeypatch.setitem(registry._REGISTERED, name, cls)
    return KeywordZeroShot


@pytest.fixture
def single_data(tmp_path):
    return write_prepared(tmp_path / "single", multi_label=False, sizes=(8, 16, 32))


@pytest.fixture
def multi_data(tmp_path):
    return write_prepared(tmp_path / "multi", multi_label=True, sizes=(8, 16, 32))
