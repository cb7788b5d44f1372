"""Builders for the engine tests: a store of synthetic issues and a tfidf-logreg model fitted in the test."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from fewtag.data.store import Item, Store
from fewtag.registry import create

WORDS = {
    "bug": "crash error traceback segfault fails broken exception hang".split(),
    "enhancement": "add support option feature please new flag allow".split(),
    "documentation": "docs typo readme example guide page link wording".split(),
}
FILLER = "the a dataset load map stream file when with on in it is of".split()


def synthetic_items(n: int, *, seed: int = 0, repo: str = "o/r") -> list[Item]:
    """``n`` issues whose words lean towards one of three labels; every fifth is closed, every seventh a PR."""
    rng = random.Random(seed)
    names = sorted(WORDS)
    items = []
    for i in range(1, n + 1):
        label = names[i % 3]
        words = rng.choices(WORDS[label], k=3) + rng.choices(WORDS[names[(i + 1) % 3]], k=1) + rng.choices(FILLER, k=6)
        rng.shuffle(words)
        items.append(
            Item(
                repo,
                str(i),
                title=" ".join(words[:4]),
                body=" ".join(words[4:]),
                labels=[label] if i % 4 == 0 else [],
                number=i,
                is_pr=i % 7 == 0,
                state="closed" if i % 5 == 0 else "open",
            )
        )
    return items


def make_store(path: Path, n: int, **kw) -> Path:
    with Store(path) as s:
        s.upsert_items(synthetic_items(n, **kw))
    return path


def make_model(folder: Path, *, n_train: int = 300, seed: int = 1) -> Path:
    items = synthetic_items(n_train, seed=seed)
    texts = [it.text for it in items]
    labels = [sorted(WORDS)[int(it.id) % 3] for it in items]
    create("tfidf-logreg", seed=0).fit(texts, labels).save(folder)
    return folder


@pytest.fixture(scope="session")
def tfidf_model(tmp_path_factory) -> Path:
    return make_model(tmp_path_factory.mktemp("model") / "tfidf")


@pytest.fixture(scope="session")
def base_store(tmp_path_factory) -> Path:
    return make_store(tmp_path_factory.mktemp("store") / "base.db", 3000)


@pytest.fixture
def store_copy(base_store, tmp_path):
    def copy(name: str = "copy.db") -> Path:
        return Path(shutil.copy(base_store, tmp_path / name))

    return copy
