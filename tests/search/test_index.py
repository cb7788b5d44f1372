from __future__ import annotations

import json

import numpy as np
import pytest

from fewtag.data.store import Item
from fewtag.errors import InputError, ModelFileError
from fewtag.search import (
    Searcher,
    build_faiss,
    build_index,
    index_folder,
    open_index,
    parse_issue_ref,
)
from fewtag.search.duplicates import tune_duplicate_threshold
from fewtag.search.faiss_build import exact_neighbours, recall_at_k


def test_build_persists_next_to_store(store, encoder):
    index, report = build_index(store, encoder)
    folder = index_folder(store.path)
    assert folder.name == "fewtag.db.index"
    assert {p.name for p in folder.iterdir()} >= {"index.faiss", "ids.json", "meta.json", "vectors.npy"}
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["model_id"] == "fake/bow" and meta["revision"] == "r1" and meta["kind"] == "flat"
    assert report.n_items == 6 and report.n_embedded == 6 and report.n_reused == 0
    loaded = open_index(store.path)
    assert len(loaded) == 6 and loaded.meta["fingerprint"] == report.fingerprint
    np.testing.assert_allclose(loaded.vectors, index.vectors)


def test_rerun_embeds_only_new_or_edited(store, encoder):
    build_index(store, encoder)
    encoder.calls.clear()
    _, again = build_index(store, encoder)
    assert again.n_embedded == 0 and again.n_reused == 6 and encoder.calls == []
    edited = store.get_item("o/r", "4")
    edited.body += " and also filter"
    store.upsert_items([edited, Item("o/r", "7", title="New issue about tokenizers", number=7)])
    _, third = build_index(store, encoder)
    assert third.n_embedded == 2 and third.n_reused == 5 and sum(encoder.calls) == 2
    assert third.fingerprint != again.fingerprint


def test_changed_encoder_reembeds_everything(store, encoder):
    from tests.search.conftest import FakeEncoder

    build_index(store, encoder)
    _, report = build_index(store, FakeEncoder(model_id="fake/other"))
    assert report.n_embedded == 6
    shorter = FakeEncoder(model_id="fake/other")
    shorter.max_length = 128
    index, report = build_index(store, shorter)
    assert report.n_embedded == 6 and index.meta["max_length"] == 128


def test_search_and_similar(store, encoder):
    build_index(store, encoder)
    searcher = Searcher(store, encoder)
    hits = searcher.query("load_dataset never returns", k=2)
    assert {h.id for h in hits} == {"1", "3"}
    assert hits[0].score >= hits[1].score > 0
    sim = searcher.similar("o/r", "1", k=3)
    assert sim[0].id == "3" and all(h.id != "1" for h in sim)
    assert sim[0].title.startswith("load_dataset")
    with pytest.raises(InputError, match="not in the store"):
        searcher.similar("o/r", "99")
    with pytest.raises(InputError, match="empty"):
        searcher.query("  ")


def test_empty_store_and_missing_index(tmp_path, encoder):
    from fewtag.data.store import Store

    s = Store(tmp_path / "e.db")
    with pytest.raises(InputError, match="no issues"):
        build_index(s, encoder)
    with pytest.raises(ModelFileError, match="fewtag index"):
        open_index(s.path)


def test_corrupt_index_is_a_clear_error(store, encoder):
    build_index(store, encoder)
    (index_folder(store.path) / "index.faiss").write_bytes(b"garbage")
    with pytest.raises(ModelFileError, match="corrupt"):
        open_index(store.path)
    # a corrupt index is rebuilt from scratch
    _, report = build_index(store, encoder)
    assert report.n_embedded == 6


def test_ivf_recall_against_exact():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 32))
    x = (centres[rng.integers(0, 20, 4000)] + 0.3 * rng.normal(size=(4000, 32))).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index, info = build_faiss(x, "on")
    assert info["kind"] == "ivf" and info["nlist"] == 63
    assert info["recall_at_10"] >= 0.95 and 1 <= info["nprobe"] <= 63
    q = x[:100]
    assert recall_at_k(index.search(q, 10)[1], exact_neighbours(x, q, 10)) >= 0.9
    flat, finfo = build_faiss(x, "auto")
    assert finfo == {"kind": "flat"}


def test_ivf_index_roundtrip(store, encoder, tmp_path):
    for n in range(8, 120):
        store.upsert_items([Item("o/r", str(n), title=f"issue {n} word{n % 7}", number=n)])
    _, report = build_index(store, encoder, ivf="on")
    assert report.kind == "ivf" and report.nprobe is not None
    loaded = open_index(store.path)
    assert loaded.meta["kind"] == "ivf" and loaded.index.nprobe == report.nprobe


def test_parse_issue_ref():
    assert parse_issue_ref("huggingface/datasets#12") == ("huggingface/datasets", "12")
    for bad in ("datasets#12", "a/b", "a/b#"):
        with pytest.raises(InputError, match="OWNER/REPO#N"):
            parse_issue_ref(bad)


def test_duplicate_threshold_from_body_references(store, encoder):
    index, _ = build_index(store, encoder)
    report = tune_duplicate_threshold(store, index)
    assert report.truth == "pairs" and report.n_positive == 2
    assert report.precision == 1.0 and report.recall == 1.0
    assert 0 < report.threshold <= 1


def test_duplicate_threshold_from_labels_only(store, encoder):
    item = store.get_item("o/r", "3")
    item.body = "same: load_dataset never returns"
    store.upsert_items([item])
    index, _ = build_index(store, encoder)
    report = tune_duplicate_threshold(store, index)
    assert report.truth == "labels" and report.n_positive == 1
    # issue 1 (the unlabelled original) is flagged too, and counts as right: its neighbour is #3
    assert report.recall == 1.0 and report.precision == 1.0


def test_no_duplicates_means_no_threshold(tmp_path, encoder):
    from fewtag.data.store import Store
    from tests.search.conftest import make_items

    s = Store(tmp_path / "x.db")
    s.upsert_items([i for i in make_items() if "duplicate" not in i.labels])
    index, _ = build_index(s, encoder)
    assert tune_duplicate_threshold(s, index).threshold is None


def test_comments_are_indexed_when_asked(store, encoder):
    store.conn.executescript(
        "CREATE TABLE comments (repo TEXT, issue_id TEXT, id INTEGER, body TEXT, created_at TEXT);"
    )
    store.conn.execute("INSERT INTO comments VALUES ('o/r', '6', 1, 'tokenizers tokenizers', 'x')")
    plain, _ = build_index(store, encoder)
    with_comments, report = build_index(store, encoder, comments=True)
    assert report.n_embedded == 6 and with_comments.meta["comments"] is True
    row = with_comments.position("o/r", "6")
    assert not np.allclose(plain.vectors[row], with_comments.vectors[row])
    assert with_comments.keys[row]["hash"] != plain.keys[row]["hash"]


def test_similar_for_an_issue_added_after_indexing(store, encoder):
    build_index(store, encoder)
    store.upsert_items([Item("o/r", "8", title="load_dataset hangs on squad again", number=8)])
    hits = Searcher(store, encoder).similar("o/r", "8", k=2)
    assert {h.id for h in hits} == {"1", "3"}


def test_bad_ivf_mode_is_a_config_error(store, encoder):
    from fewtag.errors import ConfigError

    with pytest.raises(ConfigError, match="auto, on or off"):
        build_index(store, encoder, ivf="maybe")
    assert encoder.calls == []  # checked before any embedding


def test_searcher_refuses_an_encoder_whose_weights_changed(store, encoder):
    from fewtag.errors import ConfigError
    from tests.search.conftest import FakeEncoder

    build_index(store, encoder)
    with pytest.raises(ConfigError, match="revision r1 .* now revision r2; rebuild"):
        Searcher(store, FakeEncoder(revision="r2"))


def test_each_batch_is_checkpointed_and_dropped_once_saved(store, encoder, monkeypatch):
    from fewtag.search.encoder import vector_key
    from tests.search.conftest import FakeEncoder

    seen = []
    real = store.put_embeddings
    monkeypatch.setattr(store, "put_embeddings", lambda *a: seen.append(len(a[-1])) or real(*a))
    build_index(store, encoder, batch_size=4)
    assert seen == [4, 2]  # one commit per batch
    assert store.count_embeddings(*vector_key(encoder)) == 0  # vectors.npy holds them now
    seen.clear()
    unversioned = FakeEncoder(model_id="fake/in-memory", revision=None)
    build_index(store, unversioned)
    _, again = build_index(store, unversioned)
    assert seen == [] and again.n_embedded == 6  # no revision: nothing cached, nothing reused
