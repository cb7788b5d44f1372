"""The labelling round over a store: labelled, pool, train_current, next_batch."""

from __future__ import annotations

import pytest

from fewtag.active.session import Suggestion, labelled, next_batch, pool, train_current
from fewtag.active.task import LabelTask
from fewtag.errors import ConfigError, InputError


def test_labelled_takes_github_labels_mapped_and_annotations_win(store, task):
    items, labs = labelled(store, task)
    assert len(items) == 9
    assert all(lab and "triage" not in lab for lab in labs)
    first = items[0]
    other = "docs" if labs[0] != ["docs"] else "bug"
    store.add_annotations([(first.repo, first.id, [other])])
    items2, labs2 = labelled(store, task)
    assert dict(zip([i.id for i in items2], labs2))[first.id] == [other]


def test_pool_leaves_out_labelled_and_skipped(store, task):
    assert len(pool(store, task)) == 51
    store.add_annotations([("o/r", pool(store, task)[0].id, [])], skipped=True)
    store.add_annotations([("o/r", pool(store, task)[0].id, ["bug"])])
    assert len(pool(store, task)) == 49


def test_undo_puts_an_item_back_in_the_pool(store, task):
    target = pool(store, task)[0].id
    store.add_annotations([("o/r", target, ["bug"])])
    assert target not in {i.id for i in pool(store, task)}
    store.undo_annotation()
    assert target in {i.id for i in pool(store, task)}


def test_single_label_item_with_two_mapped_labels_is_left_to_the_labeller(store, task):
    store.upsert_items([store.get_item("o/r", "60")])  # unchanged
    item = store.get_item("o/r", "60")
    item.labels = ["bug", "docs"]
    store.upsert_items([item])
    assert "60" in {i.id for i in pool(store, task)}
    multi = LabelTask(task.labels, multi_label=True)
    assert "60" not in {i.id for i in pool(store, multi)}


def test_train_current_gives_a_model_an_estimate_and_a_version(store, task):
    t = train_current(store, task, seed=0)
    assert t.tagger is not None and t.n_labelled == 9
    assert t.counts == {"bug": 3, "docs": 3, "question": 3}
    s = t.summary()
    assert s is not None and 0 <= s["macro_f1"]["mean"] <= 1 and "lo" in s["macro_f1"]
    again = train_current(store, task, seed=0)
    assert again.version == t.version
    store.add_annotations([("o/r", pool(store, task)[0].id, ["bug"])])
    assert train_current(store, task, seed=0).version != t.version


def test_train_current_without_enough_labels_has_no_model(tmp_path, task):
    from fewtag.data.store import Item, Store

    with Store(tmp_path / "e.db") as s:
        s.upsert_items([Item("o/r", "1", title="crash", labels=["bug"]), Item("o/r", "2", title="typo")])
        t = train_current(s, task)
        assert t.tagger is None and t.estimate is None and t.n_labelled == 1


def test_estimate_covers_only_labels_with_two_examples(store, task):
    # 'question' down to one example: the model still knows it, the estimate leaves it out
    items, labs = labelled(store, task)
    qs = [i for i, lab in zip(items, labs) if lab == ["question"]]
    store.add_annotations([(q.repo, q.id, ["bug"]) for q in qs[:2]])
    t = train_current(store, task)
    assert t.tagger is not None and t.tagger.classes_ == task.labels
    assert t.estimate_labels == ["bug", "docs"]


@pytest.mark.parametrize("strategy", ["hybrid", "breaking-ties", "random", "diversity", "coreset", "entropy"])
def test_next_batch_offers_pool_items_with_suggestions(store, task, strategy):
    batch = next_batch(store, task, n=6, strategy=strategy, seed=1)
    assert len(batch) == 6 and all(isinstance(s, Suggestion) for s in batch)
    ids = [s.item.id for s in batch]
    assert len(set(ids)) == 6
    assert set(ids) <= {i.id for i in pool(store, task)}
    for s in batch:
        assert set(s.scores) == set(task.labels) and len(s.labels) == 1
        assert s.model_version.startswith("tfidf-logreg-9-")


def test_next_batch_cold_start_without_labels(tmp_path):
    from fewtag.data.store import Store
    from tests.active.conftest import make_items

    with Store(tmp_path / "c.db") as s:
        s.upsert_items([i for i, _ in make_items()])
        batch = next_batch(s, LabelTask.from_labels("bug,docs,question"), n=5, strategy="breaking-ties")
        assert len(batch) == 5 and {b.reason for b in batch} == {"cold-start"}
        assert all(b.labels == [] and b.scores == {} for b in batch)


def test_next_batch_bad_input(store, task):
    with pytest.raises(ConfigError, match="Available: random"):
        next_batch(store, task, strategy="margin")
    with pytest.raises(InputError, match="positive"):
        next_batch(store, task, n=0)
    with pytest.raises(ConfigError, match="no encoder"):
        next_batch(store, task, features="encoder")


def test_exclude_and_exhausted_pool(store, task):
    everything = {(i.repo, i.id) for i in pool(store, task)}
    assert next_batch(store, task, n=5, exclude=everything) == []
