import json

import numpy as np
import pytest

from fewtag.data.dataset import load_prepared
from fewtag.data.importers import read_items
from fewtag.data.prepare import load_config, make_slices, prepare
from fewtag.data.store import Store
from fewtag.data.text import clean_markdown
from fewtag.errors import ConfigError, InputError


@pytest.fixture
def store_path(tmp_path, dump_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        s.upsert_items(read_items(dump_path))
    return path


def test_prepare_writes_splits_slices_and_config(tmp_path, store_path, config_path):
    out = tmp_path / "prep"
    result = prepare(config_path, out, store=str(store_path))
    ds = load_prepared(out)
    assert ds.labels == ["bug", "enhancement", "documentation"] and ds.multi_label
    assert len(ds.train) + len(ds.valid) + len(ds.test) == 90  # PRs excluded
    assert len(ds.unsup) == 30 and all(labs == [] for labs in ds.unsup.labels)
    # every label in every split (stratified)
    for split in (ds.train, ds.valid, ds.test):
        assert split.y(ds.labels).sum(axis=0).min() > 0
    # nested slices
    sizes = [len(ds.slices[k]) for k in ("8", "16", "32", "all")]
    assert sizes == sorted(sizes) and sizes[-1] == len(ds.train)
    assert set(ds.slices["8"]) <= set(ds.slices["16"]) <= set(ds.slices["32"])
    assert (out / "config.toml").read_text() == config_path.read_text()
    assert "<!--" not in " ".join(ds.train.texts)  # markdown clean-up
    assert result.summary["sizes"]["unsup"] == 30


def test_prepare_is_seeded(tmp_path, store_path, config_path):
    prepare(config_path, tmp_path / "a", store=str(store_path))
    prepare(config_path, tmp_path / "b", store=str(store_path))
    for name in ("train.jsonl", "test.jsonl", "slices.json"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()


def test_unknown_label_in_config_fails_and_writes_nothing(tmp_path, store_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[labels]\nkeep = ["bug", "nonsense"]\n')
    with pytest.raises(ConfigError, match="'nonsense'.*Labels present: .*bug"):
        prepare(cfg, tmp_path / "out", store=str(store_path))
    assert not (tmp_path / "out").exists()


def test_too_rare_label_fails(tmp_path):
    path = tmp_path / "d.jsonl"
    rows = [{"text": f"t{i}", "labels": ["a" if i % 2 else "b"]} for i in range(20)]
    rows.append({"text": "rare", "labels": ["c"]})
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with Store(tmp_path / "s.db") as s:
        s.upsert_items(read_items(path))
    cfg = tmp_path / "c.toml"
    cfg.write_text('[labels]\nkeep = ["a", "b", "c"]\n')
    with pytest.raises(InputError, match=r"c \(1\).*fewer than 3"):
        prepare(cfg, tmp_path / "out", store=str(tmp_path / "s.db"))
    assert not (tmp_path / "out").exists()


def test_failed_prepare_keeps_previous_output(tmp_path, store_path, config_path):
    out = tmp_path / "prep"
    prepare(config_path, out, store=str(store_path))
    before = (out / "train.jsonl").read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text('[labels]\nkeep = ["zzz"]\n')
    with pytest.raises(ConfigError):
        prepare(bad, out, store=str(store_path))
    assert (out / "train.jsonl").read_text() == before


@pytest.mark.parametrize(
    "text, match",
    [
        ("[nope]\n", "unknown section"),
        ("[split]\nseeed = 1\n", "unknown key split.seeed"),
        ("[split]\nvalid_size = 2\n", "between 0 and 1"),
        ("[text]\ncode_blocks = 'x'\n", "keep, shorten or drop"),
        ("not toml [", "invalid TOML"),
    ],
)
def test_bad_configs(tmp_path, text, match):
    p = tmp_path / "c.toml"
    p.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_config(p)


def test_single_label_slices_are_nested_and_cover_classes():
    y = np.eye(4, dtype=int)[np.arange(200) % 4]
    slices = make_slices(y, [8, 16, 64], seed=3)
    assert [len(slices[k]) for k in ("8", "16", "64")] == [8, 16, 64]
    assert set(slices["8"]) <= set(slices["16"]) <= set(slices["64"])
    assert y[slices["8"]].sum(axis=0).min() >= 1
    assert slices != make_slices(y, [8, 16, 64], seed=4)


def test_clean_markdown_removes_template_noise():
    body = (
        "<!-- Please fill -->\n### Describe the bug\nLoading fails\n- [ ] I searched\n"
        "![img](http://x/y.png)\n```python\n" + "\n".join(f"line{i}" for i in range(20)) + "\n```"
    )
    cleaned = clean_markdown(body)
    assert "Please fill" not in cleaned and "Describe the bug" not in cleaned
    assert "I searched" not in cleaned and "img" not in cleaned
    assert "Loading fails" in cleaned and "line0" in cleaned and "line19" not in cleaned


def test_labels_from_the_annotations_log_replace_the_github_labels(tmp_path, store_path, config_path):
    with Store(store_path) as s:
        unlabelled = [it for it in s.items("acme/widgets", include_prs=False) if not it.labels][:2]
        labelled = next(it for it in s.items("acme/widgets", include_prs=False) if "bug" in it.labels)
        s.add_annotations([(it.repo, it.id, ["documentation"]) for it in unlabelled], who="ana")
        s.add_annotations([(labelled.repo, labelled.id, ["enhancement"])], who="ana")
    out = tmp_path / "prep"
    result = prepare(config_path, out, store=str(store_path))
    ds = load_prepared(out)
    got = {}
    for split in (ds.train, ds.valid, ds.test):
        got.update(zip(split.ids, split.labels))
    found = {k: v for k, v in got.items() if any(k.endswith(f"#{it.id}") for it in [*unlabelled, labelled])}
    assert len(found) == 3, list(got)[:3]
    assert sorted(map(tuple, found.values())) == [("documentation",), ("documentation",), ("enhancement",)]
    assert len(ds.unsup) == 28
    assert any("annotations log" in n for n in result.notes)
