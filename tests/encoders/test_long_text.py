"""Long texts (head, head-tail, chunks) and the ``auto`` encoder backend."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fewtag import get_method
from fewtag.embed import backends, clear_encoders, configure_cache, get_encoder
from fewtag.embed.long_text import MAX_CHUNKS, TAIL_FRACTION, token_cap, windows
from fewtag.errors import InputError

WORDS = "crash on start docs typo feature request add new option load save file data model test".split()


def _long_text(seed: int, n_words: int) -> str:
    rng = np.random.RandomState(seed)
    return " ".join(rng.choice(WORDS, n_words))


pytestmark = pytest.mark.usefixtures("fresh_encoders")


# ------------------------------------------------------------------ windows (token level)
def test_head_tail_keeps_the_first_and_last_tokens():
    ids = list(range(100))
    (window,) = windows(ids, "head-tail", 20)
    tail = round(20 * TAIL_FRACTION)
    assert window == ids[: 20 - tail] + ids[-tail:] and len(window) == 20
    assert windows(ids, "head", 20) == [ids[:20]]
    assert windows(ids[:20], "head-tail", 20) == [ids[:20]]  # a text that fits is kept whole


def test_chunks_cover_the_text_in_near_equal_windows_up_to_the_cap():
    ids = list(range(45))
    parts = windows(ids, "chunks", 20)
    assert [len(p) for p in parts] == [15, 15, 15]
    assert sum(parts, []) == ids
    long = list(range(1000))
    parts = windows(long, "chunks", 20)
    assert len(parts) == MAX_CHUNKS and sum(parts, []) == long[: 20 * MAX_CHUNKS]
    assert token_cap("chunks", 20) == 20 * MAX_CHUNKS and token_cap("head-tail", 20) is None
    assert windows([], "chunks", 20) == [[]]


def test_unknown_mode_is_an_input_error_naming_the_modes(tiny_encoder):
    with pytest.raises(InputError, match="head, head-tail, chunks"):
        windows([1, 2], "middle", 4)
    with pytest.raises(InputError, match="head-tail"):
        get_encoder(tiny_encoder, long_text="tail")


# ------------------------------------------------------------------ encoder level
def test_head_matches_sentence_transformers_encode(tiny_encoder):
    enc = get_encoder(tiny_encoder, max_length=16, backend="torch")
    texts = [_long_text(0, 40), "crash on start", _long_text(1, 9), ""]
    reference = enc.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(enc.encode(texts, batch_size=2), reference, atol=1e-5)


def test_head_tail_sees_the_end_of_a_long_text(tiny_encoder):
    enc = get_encoder(tiny_encoder, max_length=16, backend="torch", long_text="head-tail")
    head = get_encoder(tiny_encoder, max_length=16, backend="torch")
    assert enc.model is head.model  # the modes share the loaded model
    start, middle_a, middle_b = "crash on start " * 4, "docs typo " * 10, "feature request " * 10
    a, b = start + middle_a + "save the model file data", start + middle_b + "save the model file data"
    c = start + middle_a + "add new option load test"
    va, vb, vc = enc.encode([a, b, c])
    np.testing.assert_allclose(va, vb, atol=1e-6)  # same first and last tokens
    assert not np.allclose(va, vc, atol=1e-3)  # other last tokens
    ha, _, hc = head.encode([a, b, c])
    np.testing.assert_allclose(ha, hc, atol=1e-6)  # head never sees the end


def test_chunks_are_the_mean_of_the_window_embeddings(tiny_encoder):
    enc = get_encoder(tiny_encoder, max_length=12, backend="torch", long_text="chunks")
    texts = [_long_text(2, 33), "crash on start", _long_text(3, 200)]
    got = enc.encode(texts, batch_size=3)
    tok = enc.model.tokenizer
    for text, vector in zip(texts, got):
        ids = tok(text, add_special_tokens=False)["input_ids"]
        parts = windows(ids, "chunks", 10)  # 12 minus [CLS] and [SEP]
        chunk_texts = [tok.decode(p) for p in parts]
        assert [tok(t, add_special_tokens=False)["input_ids"] for t in chunk_texts] == parts
        each = enc.model.encode(chunk_texts, normalize_embeddings=True, convert_to_numpy=True)
        mean = each.mean(axis=0)
        np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), atol=1e-5)
    assert len(windows(tok(texts[2], add_special_tokens=False)["input_ids"], "chunks", 10)) == MAX_CHUNKS
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)


def test_modes_never_share_cached_vectors(tiny_encoder, tmp_path):
    configure_cache(tmp_path / "emb.db")
    text = _long_text(4, 60)
    head = get_encoder(tiny_encoder, max_length=12, backend="torch")
    keys = {head._cache.key}
    v_head = head.encode([text])
    for mode in ("head-tail", "chunks"):
        enc = get_encoder(tiny_encoder, max_length=12, backend="torch", long_text=mode)
        keys.add(enc._cache.key)
        calls = enc.calls
        v = enc.encode([text])
        assert enc.calls == calls + 1  # computed, not read from the head's rows
        assert not np.allclose(v, v_head, atol=1e-4), mode
    assert len(keys) == 3
    clear_encoders()
    again = get_encoder(tiny_encoder, max_length=12, backend="torch", long_text="chunks")
    calls = again.calls
    again.encode([text])
    assert again.calls == calls  # its own rows come back from the store


# ------------------------------------------------------------------ backend "auto"
@pytest.mark.parametrize(("flags", "expected"), [("fpu sse avx512f avx512_bf16", "torch-bf16"), ("fpu avx2", "torch")])
def test_auto_backend_follows_the_cpu_flag(flags, expected, tiny_encoder, tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: {flags}\n")
    monkeypatch.setattr(backends, "CPUINFO", cpuinfo)
    monkeypatch.setattr(backends, "_torch_runs_bf16", lambda: True)
    backends.cpu_flags.cache_clear()
    try:
        assert backends.resolve_backend("auto") == expected
        assert backends.resolve_backend("onnx-int8") == "onnx-int8"
        enc = get_encoder(tiny_encoder, max_length=16, backend="auto")
        assert enc.backend == expected
        assert enc._cache.key[0].endswith("#torch-bf16") == (expected == "torch-bf16")
        tagger = get_method("embed-logreg")(model=tiny_encoder, max_length=16)  # "auto" is the default
        assert tagger.backend == "auto" and tagger._encoder().backend == expected
    finally:
        backends.cpu_flags.cache_clear()


def test_auto_is_torch_without_a_cpuinfo(tmp_path, monkeypatch):
    monkeypatch.setattr(backends, "CPUINFO", tmp_path / "missing")
    backends.cpu_flags.cache_clear()
    try:
        assert backends.cpu_flags() == frozenset() and backends.resolve_backend("auto") == "torch"
    finally:
        backends.cpu_flags.cache_clear()


# ------------------------------------------------------------------ saved with the model
@pytest.mark.parametrize("name", ["embed-logreg", "knn", "zero-shot-embed"])
def test_a_saved_model_reloads_with_its_long_text_mode(name, tiny_encoder, tmp_path):
    from fewtag.registry import create, load_tagger
    from tests.utils.tiny_encoders import toy_data

    texts, labels, _ = toy_data()
    texts = [t + " " + _long_text(i, 40) for i, t in enumerate(texts)]
    tagger = create(name, {"max_length": 12, "long_text": "chunks"}, model=tiny_encoder).fit(texts, labels)
    folder = tagger.save(tmp_path / "m")
    meta = json.loads((folder / "fewtag.json").read_text())
    assert meta["params"]["long_text"] == "chunks" and meta["encoder"]["long_text"] == "chunks"
    clear_encoders()
    loaded = load_tagger(folder)
    assert loaded.long_text == "chunks" and loaded._encoder().long_text == "chunks"
    np.testing.assert_allclose(loaded.predict_proba(texts), tagger.predict_proba(texts), atol=1e-6)
    head = create(name, {"max_length": 12}, model=tiny_encoder).fit(texts, labels)
    assert head._encoder().long_text == "head"


def test_search_index_rows_are_keyed_by_the_long_text_mode_and_backend(tiny_encoder):
    from fewtag.search.encoder import vector_key

    keys = {
        vector_key(get_encoder(tiny_encoder, 16, long_text=mode, backend=backend))[0]
        for mode in ("head", "chunks")
        for backend in ("torch", "torch-bf16")
    }
    assert len(keys) == 4  # an index built one way is never reused for queries embedded another way
