"""Tiny random models, built once per test session (no network)."""

from __future__ import annotations

import random

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from tests.utils.tiny_models import build_encoder, build_mlm_model, build_nli_model  # noqa: E402


@pytest.fixture(scope="session")
def nli_dir(tmp_path_factory):
    return build_nli_model(tmp_path_factory.mktemp("nli"))


@pytest.fixture(scope="session")
def mlm_dir(tmp_path_factory):
    return build_mlm_model(tmp_path_factory.mktemp("mlm"))


@pytest.fixture(scope="session")
def encoder_dir(tmp_path_factory):
    return build_encoder(tmp_path_factory.mktemp("encoder"))


def keyword_data(n: int, seed: int, labels=("good", "bad")) -> tuple[list[str], list[str]]:
    """Texts whose label is the one keyword they contain: trivially separable."""
    rng = random.Random(seed)
    filler = "this movie was a film it the very really so".split()
    texts, out = [], []
    for _ in range(n):
        label = rng.choice(labels)
        words = rng.sample(filler, 4)
        words.insert(rng.randrange(5), label)
        texts.append(" ".join(words))
        out.append(label)
    return texts, out
