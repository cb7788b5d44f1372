"""The embedding API: shapes, normalisation, order, cache, truncation, missing models."""

from __future__ import annotations

import time

import numpy as np
import pytest

from fewtag.embed import EmbeddingCache, clear_encoders, configure_cache, get_encoder
from fewtag.errors import ModelNotFoundError


def test_encode_shape_norm_and_order(tiny_encoder):
    enc = get_encoder(tiny_encoder, max_length=32)
    texts = ["a crash", "please add a new option to load data with a flag", "docs", "typo"]
    x = enc.encode(texts, batch_size=2)
    assert x.dtype == np.float32 and x.shape == (4, enc.dim) and enc.dim == 32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    # order restored after length sorting: each row equals the text embedded alone
    for i, t in enumerate(texts):
        np.testing.assert_allclose(enc._embed([t], 8, False)[0], x[i], atol=1e-5)
    assert enc.revision and enc.path.is_dir() and enc.max_length == 32
    assert get_encoder(tiny_encoder, max_length=32) is enc  # memoised


def test_plain_transformers_folder_gets_mean_pooling(tiny_plain_encoder):
    enc = get_encoder(tiny_plain_encoder)
    x = enc.encode(["crash on start", "docs typo"])
    assert x.shape == (2, 32)
    assert not np.allclose(x[0], x[1])


def test_second_encode_does_not_call_the_model(tiny_encoder):
    EmbeddingCache.clear_memory()
    enc = get_encoder(tiny_encoder, max_length=48)
    texts = ["crash on start", "docs typo", "crash on start"]
    before = enc.calls
    first = enc.encode(texts)
    assert enc.calls == before + 1
    second = enc.encode(list(reversed(texts)))
    assert enc.calls == before + 1
    np.testing.assert_array_equal(second, first[::-1])


def test_memory_keeps_only_the_most_recent_vectors(tiny_encoder, monkeypatch):
    monkeypatch.setenv("FEWTAG_EMBED_MEMORY", "3")
    EmbeddingCache.clear_memory()
    clear_encoders()
    enc = get_encoder(tiny_encoder, max_length=36)
    first = enc.encode(["one crash", "two crash", "three crash", "four crash"])
    enc.encode(["two crash"])  # a hit: now the most recently used
    enc.encode(["five crash"])
    assert len(enc._cache.memory) == 3
    calls = enc.calls
    again = enc.encode(["two crash", "four crash"])
    assert enc.calls == calls  # both kept
    np.testing.assert_array_equal(again, first[[1, 3]])
    enc.encode(["one crash"])
    assert enc.calls == calls + 1  # evicted, computed again


def test_persistent_cache_survives_a_new_process_state(tiny_encoder, tmp_path):
    configure_cache(tmp_path / "store.db")
    EmbeddingCache.clear_memory()
    clear_encoders()
    enc = get_encoder(tiny_encoder, max_length=40)
    x = enc.encode(["add a new flag", "segfault"])
    assert enc.calls == 1
    # forget the memory and the loaded model: only the SQLite store can answer now
    EmbeddingCache.clear_memory()
    clear_encoders()
    enc2 = get_encoder(tiny_encoder, max_length=40)
    assert enc2 is not enc
    y = enc2.encode(["segfault", "add a new flag"])
    assert enc2.calls == 0
    np.testing.assert_array_equal(y, x[::-1])
    # another max_length is another key
    enc3 = get_encoder(tiny_encoder, max_length=41)
    enc3.encode(["segfault"])
    assert enc3.calls == 1


def test_env_var_turns_the_store_cache_on(tiny_encoder, tmp_path, monkeypatch):
    import fewtag.embed.cache as cache
    from fewtag.data.store import Store

    monkeypatch.setattr(cache, "_configured", cache._UNSET)
    monkeypatch.setenv("FEWTAG_EMBED_CACHE", str(tmp_path / "env.db"))
    get_encoder(tiny_encoder, max_length=44).encode(["the readme"])
    n = Store(tmp_path / "env.db").conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    assert n == 1


def test_truncation_at_max_length(tiny_encoder):
    enc = get_encoder(tiny_encoder, max_length=8)
    base = "crash on start " * 2
    a, b = enc.encode([base + "docs " * 40, base + "feature " * 40])
    np.testing.assert_allclose(a, b, atol=1e-6)  # tokens past 8 are cut before they differ
    long = get_encoder(tiny_encoder, max_length=128)
    c, d = long.encode([base + "docs " * 40, base + "feature " * 40])
    assert not np.allclose(c, d)


def test_missing_model_fails_fast_and_names_an_offline_method(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    with pytest.raises(ModelNotFoundError) as info:
        get_encoder("facebook/does-not-exist", method="knn")
    assert time.perf_counter() - start < 5
    msg = str(info.value)
    assert "facebook/does-not-exist" in msg and "knn" in msg and "tfidf-logreg" in msg
