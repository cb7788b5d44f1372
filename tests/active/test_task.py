"""LabelTask from a label list or a dataset.toml; the stopping hint."""

from __future__ import annotations

import pytest

from fewtag.active.stopping import stopping_hint
from fewtag.active.task import LabelTask
from fewtag.errors import ConfigError, InputError


def test_from_labels_validates():
    assert LabelTask.from_labels(" bug , docs ,").labels == ["bug", "docs"]
    with pytest.raises(ConfigError, match="at least 2 labels"):
        LabelTask.from_labels("bug")
    with pytest.raises(ConfigError, match="bug given twice"):
        LabelTask.from_labels("bug,bug,docs")
    with pytest.raises(ConfigError, match="unknown labels"):
        LabelTask.from_labels("bug,docs", descriptions={"feature": "x"})


def test_check_names_the_row():
    t = LabelTask.from_labels("bug,docs")
    assert t.check([" docs "]) == ["docs"]
    with pytest.raises(InputError, match="one label per item"):
        t.check(["docs", "bug"], "row 3")
    with pytest.raises(InputError, match="row 4: unknown label 'x'"):
        t.check(["x"], "row 4")
    assert LabelTask(["bug", "docs"], multi_label=True).check(["docs", "bug"]) == ["bug", "docs"]


def test_from_config_keep_map_and_multi_label(tmp_path, store):
    cfg = tmp_path / "d.toml"
    cfg.write_text('[data]\nrepo = "o/r"\n[labels]\nkeep = ["bug", "docs", "question"]\nmap = { triage = "" }\n')
    t = LabelTask.from_config(cfg, store=store)
    assert t.labels == ["bug", "docs", "question"] and t.repo == "o/r" and not t.multi_label
    item = store.get_item("o/r", "1")
    item.labels = ["bug", "docs"]
    store.upsert_items([item])
    assert LabelTask.from_config(cfg, store=store).multi_label  # an item with two kept tags


def test_from_config_without_keep_uses_the_store(tmp_path, store):
    cfg = tmp_path / "d.toml"
    cfg.write_text("[labels]\nmin_count = 3\n")
    assert LabelTask.from_config(cfg, store=store).labels == ["bug", "docs", "question", "triage"]
    with pytest.raises(ConfigError, match="no labels.keep"):
        LabelTask.from_config(cfg)
    bad = tmp_path / "bad.toml"
    bad.write_text("[labels]\nkeep = 3\n")
    with pytest.raises(ConfigError, match="labels.keep"):
        LabelTask.from_config(bad)


def test_stopping_hint():
    assert stopping_hint([]) is None
    assert stopping_hint([0.3, 0.4, 0.5, 0.6]) is None
    hint = stopping_hint([(8, 0.3), (16, 0.5), (24, 0.5), (32, 0.505), (40, 0.49)])
    assert hint is not None and "last 3 rounds" in hint and "best 0.500 at 16 labels" in hint
    assert stopping_hint([0.3, None, 0.5, 0.5, 0.5, 0.5]) is not None  # rounds without an estimate are left out
    assert stopping_hint([{"macro_f1": {"mean": 0.2}}, 0.2, 0.2, 0.2], rounds=3) is not None
