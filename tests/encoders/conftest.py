"""Shared fixtures: one tiny sentence encoder per test session."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest.importorskip("sentence_transformers")


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    from tests.utils.tiny_encoders import build_sentence_encoder

    return str(build_sentence_encoder(tmp_path_factory.mktemp("enc") / "tiny-st"))


@pytest.fixture(scope="session")
def tiny_plain_encoder(tmp_path_factory):
    from tests.utils.tiny_encoders import build_plain_encoder

    return str(build_plain_encoder(tmp_path_factory.mktemp("enc") / "tiny-plain"))


@pytest.fixture
def fresh_encoders(tmp_path, monkeypatch):
    """A cache dir of the test's own (ONNX exports, fetched models) and no memoised encoders before or after."""
    from fewtag.embed import clear_encoders

    monkeypatch.setenv("FEWTAG_CACHE_DIR", str(tmp_path / "cache"))
    clear_encoders()
    yield
    clear_encoders()


@pytest.fixture(autouse=True)
def _no_persistent_cache(monkeypatch):
    from fewtag.embed import configure_cache

    monkeypatch.delenv("FEWTAG_EMBED_CACHE", raising=False)
    configure_cache(None)
    yield
    configure_cache(None)
