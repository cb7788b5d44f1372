"""Issue 12.2: every cache is keyed on the *contents* of the weights, not their sizes.

Two tiny sentence encoders built with different seeds have files of exactly the
same names and sizes; the old ``model_revision`` (names + sizes) gave them one
revision, so the second reused the first's ONNX graph and cached vectors.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sentence_transformers")

import fewtag.models as models  # noqa: E402
from fewtag.embed import EmbeddingCache, clear_encoders, configure_cache, get_encoder  # noqa: E402
from fewtag.models import DIGEST_FILE, model_revision  # noqa: E402

TEXTS = ["the app crashes on start", "please add a new option", "typo in the readme"]


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Two tiny encoders, same file names and sizes, different weights."""
    from tests.utils.tiny_encoders import build_sentence_encoder

    root = tmp_path_factory.mktemp("twins")
    a = build_sentence_encoder(root / "a", seed=0)
    b = build_sentence_encoder(root / "b", seed=1)
    return a, b


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FEWTAG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("FEWTAG_EMBED_CACHE", raising=False)
    configure_cache(None)
    clear_encoders()
    EmbeddingCache.clear_memory()
    yield
    configure_cache(None)
    clear_encoders()
    EmbeddingCache.clear_memory()


def _copy_model(src: Path, dst: Path) -> Path:
    """Copy a model folder (not its digests), over ``dst`` if it exists: a re-weighted model in place."""
    shutil.copytree(src, dst, dirs_exist_ok=True, ignore=shutil.ignore_patterns(DIGEST_FILE))
    return dst


def _sizes(folder: Path) -> dict[str, int]:
    return {
        f.relative_to(folder).as_posix(): f.stat().st_size
        for f in folder.rglob("*")
        if f.is_file() and f.name != DIGEST_FILE
    }


def test_same_size_models_get_different_revisions(twins):
    a, b = twins
    assert _sizes(a) == _sizes(b)  # the case the old names-and-sizes fingerprint could not tell apart
    assert (a / "model.safetensors").read_bytes() != (b / "model.safetensors").read_bytes()
    assert model_revision(a) != model_revision(b)
    assert model_revision(a) == model_revision(a)


def test_weights_are_hashed_once_then_only_stat_ed(twins, tmp_path, monkeypatch):
    folder = _copy_model(twins[0], tmp_path / "m")
    calls: list[str] = []
    real = models.file_sha256
    monkeypatch.setattr(models, "file_sha256", lambda p, **kw: calls.append(Path(p).name) or real(p, **kw))
    first = model_revision(folder)
    assert "model.safetensors" in calls and (folder / DIGEST_FILE).is_file()
    calls.clear()
    assert model_revision(folder) == first and calls == []  # the second call reads no file
    _copy_model(twins[1], tmp_path / "other")
    shutil.copyfile(tmp_path / "other" / "model.safetensors", folder / "model.safetensors")
    changed = model_revision(folder)
    assert calls == ["model.safetensors"] and changed != first  # only the rewritten file again
    assert changed == model_revision(twins[1])


def test_digests_go_to_the_cache_dir_when_the_folder_is_read_only(twins, tmp_path, monkeypatch):
    folder = _copy_model(twins[0], tmp_path / "ro")
    monkeypatch.setattr(models, "_writable", lambda f: False)
    calls: list[str] = []
    real = models.file_sha256
    monkeypatch.setattr(models, "file_sha256", lambda p, **kw: calls.append(Path(p).name) or real(p, **kw))
    rev = model_revision(folder)
    assert not (folder / DIGEST_FILE).exists()
    assert list((tmp_path / "cache" / "digests").glob("*.json"))
    calls.clear()
    assert model_revision(folder) == rev and calls == []


def test_corrupt_digest_file_is_ignored(twins, tmp_path):
    folder = _copy_model(twins[0], tmp_path / "m")
    rev = model_revision(folder)
    (folder / DIGEST_FILE).write_text("{not json")
    assert model_revision(folder) == rev


def test_reweighted_model_in_place_gets_fresh_vectors(twins, tmp_path):
    """Same folder, same sizes, new weights: neither the encoder memo nor the store cache answers."""
    a, b = twins
    folder = _copy_model(a, tmp_path / "adapted")
    configure_cache(tmp_path / "cache.db")
    before = get_encoder(str(folder), max_length=32).encode(TEXTS)
    _copy_model(b, folder)  # the adapted weights are saved over the base model
    enc = get_encoder(str(folder), max_length=32)  # no clear_encoders(): the memo must notice
    after = enc.encode(TEXTS)
    reference = get_encoder(str(b), max_length=32).encode(TEXTS)
    assert enc.revision == model_revision(b)
    np.testing.assert_allclose(after, reference, atol=1e-5)
    assert (after * before).sum(axis=1).max() < 0.999
    # a new process state: only the persistent store cache is left, and it must not serve A's vectors
    clear_encoders()
    EmbeddingCache.clear_memory()
    fresh = get_encoder(str(folder), max_length=32)
    np.testing.assert_allclose(fresh.encode(TEXTS), reference, atol=1e-5)


def test_same_size_models_get_their_own_onnx_export(twins, tmp_path):
    pytest.importorskip("onnxruntime")
    a, b = twins
    va = get_encoder(str(a), max_length=32, backend="onnx").encode(TEXTS)
    vb = get_encoder(str(b), max_length=32, backend="onnx").encode(TEXTS)
    exports = sorted(p.parent.name for p in (tmp_path / "cache" / "onnx").rglob("model.onnx"))
    assert exports == sorted({model_revision(a), model_revision(b)})
    np.testing.assert_allclose(vb, get_encoder(str(b), max_length=32).encode(TEXTS), atol=1e-5)
    assert (va * vb).sum(axis=1).max() < 0.999


def test_search_index_is_not_reused_for_a_reweighted_encoder(twins, tmp_path):
    from fewtag.data.store import Item, Store
    from fewtag.errors import ConfigError
    from fewtag.search import Searcher, build_index, load_encoder

    a, b = twins
    folder = _copy_model(a, tmp_path / "enc")
    with Store(tmp_path / "s.db") as store:
        store.upsert_items([Item("o/r", str(i), title=t, number=i) for i, t in enumerate(TEXTS, 1)])
        _, first = build_index(store, load_encoder(str(folder), max_length=32))
        _copy_model(b, folder)
        encoder = load_encoder(str(folder), max_length=32)
        with pytest.raises(ConfigError, match="rebuild"):
            Searcher(store, encoder)  # the old index, queried with the new weights
        index, again = build_index(store, encoder)
        assert first.n_embedded == 3 and again.n_embedded == 3 and again.n_reused == 0
        assert index.meta["revision"] == model_revision(b)
        np.testing.assert_allclose(index.vectors, get_encoder(str(b), max_length=32).encode(TEXTS), atol=1e-5)
