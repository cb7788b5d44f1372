"""Builders for the search tests: a tiny deterministic encoder and a small store."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from fewtag.data.store import Item, Store


class FakeEncoder:
    """Hashed bag of words -> L2-normalised vectors; texts sharing words are close."""

    def __init__(self, dim: int = 64, model_id: str = "fake/bow", revision: str = "r1"):
        self.dim, self.model_id, self.revision = dim, model_id, revision
        self.calls: list[int] = []

    def encode(self, texts):
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z0-9_]+", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        out[:, 0] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


ISSUES = [
    ("1", "load_dataset hangs forever", "Calling load_dataset on squad never returns", ["bug"]),
    ("2", "Add a drop_duplicates method", "It would be nice to drop duplicate rows in a dataset", ["enhancement"]),
    ("3", "load_dataset hangs forever on squad", "Duplicate of #1\n\nsame: load_dataset never returns", ["duplicate"]),
    ("4", "Streaming mode breaks map", "map with streaming=True raises an error", ["bug"]),
    ("5", "Docs: typo in the quickstart", "The quickstart page has a typo", ["documentation"]),
    ("6", "Audio decoding is slow", "Decoding mp3 audio files takes minutes", []),
]


def make_items(repo: str = "o/r") -> list[Item]:
    return [
        Item(repo, n, title=t, body=b, labels=labs, number=int(n), updated_at=f"2024-01-0{n}")
        for n, t, b, labs in ISSUES
    ]


@pytest.fixture
def encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "fewtag.db")
    s.upsert_items(make_items())
    yield s
    s.close()
