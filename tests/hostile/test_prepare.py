"""Hostile ``fewtag prepare`` configs and split files: ill-typed values are one ConfigError naming
the key, what was expected and what was given; de-duplication never removes a valid or test item."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from fewtag.data.config import PrepareConfig
from fewtag.data.dataset import load_prepared
from fewtag.data.prepare import load_config, prepare
from fewtag.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "toml, key, expected, given",
    [
        ('[labels]\nmin_count = "ten"\n', "labels.min_count", "an integer >= 1", "'ten' (a string)"),
        ('[labels]\nmap = { bug = ["x"] }\n', "labels.map", '"raw label" = "tag" strings', "bug = ['x'] (a list)"),
        ("[text]\nmax_chars = -1\n", "text.max_chars", "a positive integer", "-1 (an integer)"),
        ("[text]\nmax_chars = 0\n", "text.max_chars", "a positive integer", "0 (an integer)"),
        ('[labels]\nkeep = "bug"\n', "labels.keep", "list of distinct tag names", "'bug' (a string)"),
        ('[labels]\nkeep = ["bug", "bug"]\n', "labels.keep", "distinct", "['bug', 'bug'] (a list)"),
        ("[labels]\nkeep = [1, 2]\n", "labels.keep", "tag names (strings)", "[1, 2] (a list)"),
        ('[labels]\nmulti_label = "yes"\n', "labels.multi_label", "true or false", "'yes' (a string)"),
        ("[labels]\nmin_count = 2.5\n", "labels.min_count", "an integer", "2.5 (a number)"),
        ("[labels]\nmin_count = true\n", "labels.min_count", "an integer", "True (a boolean)"),
        ('[split]\nslices = [8, "x"]\n', "split.slices", "positive integers", "[8, 'x']"),
        ("[split]\nslices = 8\n", "split.slices", "a list of positive integers", "8 (an integer)"),
        ('[split]\nvalid_size = "0.25"\n', "split.valid_size", "a fraction between 0 and 1", "'0.25' (a string)"),
        ("[split]\nseed = -1\n", "split.seed", "an integer from 0", "-1 (an integer)"),
        ("[split]\nvalid_size = 0.6\ntest_size = 0.5\n", "split.valid_size + split.test_size", "under 1", "0.6 + 0.5"),
        ("[data]\ninclude_prs = 1\n", "data.include_prs", "true or false", "1 (an integer)"),
        ("[data]\nfiles = { train = 3 }\n", "data.files", "split = path strings", "train = 3 (an integer)"),
        (
            '[data]\nfiles = { trian = "a.jsonl" }\n',
            "data.files",
            "splits train, valid, test, unsup",
            "{'trian': 'a.jsonl'} (a table)",
        ),
        ('[data]\nfiles = "train.jsonl"\n', "data.files", "a table", "'train.jsonl' (a string)"),
        ("[data]\nrepo = 5\n", "data.repo", "an OWNER/NAME string", "5 (an integer)"),
        ('[text]\ndedup = "no"\n', "text.dedup", "true or false", "'no' (a string)"),
        ("[text]\ncode_blocks = 1\n", "text.code_blocks", "keep, shorten or drop", "1 (an integer)"),
    ],
)
def test_ill_typed_config_names_key_expected_and_given(tmp_path, toml, key, expected, given):
    path = tmp_path / "c.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: {key} must be ") and expected in msg and f"got {given}" in msg, msg
    assert "\n" not in msg


def test_ill_typed_config_writes_nothing_and_cli_says_one_line(tmp_path, monkeypatch, capsys):
    path = tmp_path / "c.toml"
    path.write_text('[labels]\nmin_count = "ten"\n')
    with pytest.raises(ConfigError):
        prepare(path, tmp_path / "out", store=str(tmp_path / "missing.db"))
    assert not (tmp_path / "out").exists()
    from fewtag.cli import main

    monkeypatch.setattr(sys, "argv", ["fewtag", "prepare", "--config", str(path), "--out", str(tmp_path / "o")])
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exit_:
        main()
    err = capsys.readouterr().err
    assert exit_.value.code == 1 and len(err.strip().splitlines()) == 1 and "labels.min_count" in err
    assert not (tmp_path / "o").exists()


def test_config_built_in_code_is_checked_too():
    with pytest.raises(ConfigError, match=r"labels.map must be .*got bug = \['x'\]"):
        PrepareConfig(map={"bug": ["x"]})  # type: ignore[dict-item]
    assert PrepareConfig(max_chars=None).max_chars is None


@pytest.mark.parametrize("name", ["hf-datasets.toml", "emotion.toml"])
def test_shipped_configs_stay_valid(name):
    cfg = load_config(ROOT / "configs" / name)
    assert isinstance(cfg, PrepareConfig) and cfg.slices


def test_discover_written_config_stays_valid(tmp_path):
    """Generated configs use map/keep/min_count/multi_label like the shipped ones."""
    path = tmp_path / "c.toml"
    path.write_text(
        '[data]\nstore = "s.db"\nrepo = "o/r"\ninclude_prs = false\n[labels]\n'
        'map = { "type: bug" = "bug", "wontfix" = "" }\nkeep = ["bug", "docs"]\nmin_count = 3\n'
        'multi_label = true\n[text]\nclean_markdown = false\ncode_blocks = "drop"\nmax_chars = 500\n'
        "dedup = false\n[split]\nseed = 7\nvalid_size = 0.2\ntest_size = 0.2\nslices = []\n"
    )
    cfg = load_config(path)
    assert cfg.map == {"type: bug": "bug", "wontfix": ""} and cfg.slices == [] and cfg.seed == 7


# ---------------------------------------------------- issue 11 §1b: dedup of given splits
def _jsonl(path: Path, rows: list[dict]) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return str(path)


def _files_config(cfg: Path, train: str, valid: str, test: str, *, slices: list[int]) -> None:
    cfg.write_text(
        f'[data]\nfiles = {{ train = "{train}", valid = "{valid}", test = "{test}" }}\n[split]\nslices = {slices}\n'
    )


def _split_files(tmp_path: Path) -> Path:
    def rows(prefix: str, n: int) -> list[dict]:
        return [{"text": f"{prefix} text number {i}", "label": "ab"[i % 2]} for i in range(n)]

    train = rows("train", 20)
    valid = rows("valid", 6)
    test = rows("test", 6)
    # ids make the copies distinct records (the importer keeps one record per id within a file)
    train += [dict(test[0]), dict(test[1]), dict(valid[2])]  # 3 cross-split duplicates
    train.append({**train[3], "id": "copy-of-3"})  # 1 repeat inside train
    test.append(dict(valid[0]))  # the same text in valid and test: both stay
    test.append({**test[4], "id": "copy-of-4"})  # a repeat inside test stays too
    cfg = tmp_path / "cfg.toml"
    _files_config(
        cfg,
        _jsonl(tmp_path / "d" / "train.jsonl", train),
        _jsonl(tmp_path / "d" / "valid.jsonl", valid),
        _jsonl(tmp_path / "d" / "test.jsonl", test),
        slices=[4],
    )
    return cfg


def test_dedup_of_given_files_never_drops_valid_or_test_items(tmp_path):
    result = prepare(_split_files(tmp_path), tmp_path / "out")
    ds = load_prepared(tmp_path / "out")
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (20, 6, 8)
    assert result.summary["dropped"] == {"duplicates": 1, "cross_split": 3, "empty": 0}
    assert not set(ds.train.texts) & (set(ds.valid.texts) | set(ds.test.texts))
    assert any("dropped 3 train items whose text is also in valid or test" in n for n in result.notes)


def test_prepare_cli_prints_the_cross_split_count(tmp_path, monkeypatch, capsys):
    from fewtag.cli import main

    monkeypatch.setattr(
        sys, "argv", ["fewtag", "prepare", "--config", str(_split_files(tmp_path)), "--out", str(tmp_path / "out")]
    )
    monkeypatch.setenv("COLUMNS", "300")
    try:
        main()
    except SystemExit as exc:
        assert not exc.code
    out = capsys.readouterr().out
    assert "dropped: 1 duplicate texts, 3 train items whose text is also in valid or test" in out


def test_given_files_with_the_same_name_keep_their_splits(tmp_path):
    """Split membership follows the file, not ``repo#id`` (two ``data.jsonl`` with the same ids)."""

    def rows(prefix: str, n: int) -> list[dict]:
        return [{"id": str(i), "text": f"{prefix} {i}", "label": "ab"[i % 2]} for i in range(n)]

    cfg = tmp_path / "cfg.toml"
    _files_config(
        cfg,
        _jsonl(tmp_path / "train" / "data.jsonl", rows("train", 12)),
        _jsonl(tmp_path / "valid" / "data.jsonl", rows("valid", 4)),
        _jsonl(tmp_path / "test" / "data.jsonl", rows("test", 4)),
        slices=[],
    )
    prepare(cfg, tmp_path / "out")
    ds = load_prepared(tmp_path / "out")
    assert (len(ds.train), len(ds.valid), len(ds.test)) == (12, 4, 4)
    assert all(t.startswith("test ") for t in ds.test.texts)


def test_store_prepare_still_dedups_before_splitting(tmp_path):
    from fewtag.data.prepare import prepare_items
    from fewtag.data.store import Item

    items = [Item("o/r", str(i), body=f"text {i % 30}", labels=["ab"[i % 2]]) for i in range(60)]
    prepared = prepare_items(items, PrepareConfig(min_count=1, slices=[]))
    ds = prepared.dataset
    assert prepared.summary["dropped"]["duplicates"] == 30
    assert len(ds.train) + len(ds.valid) + len(ds.test) == 30
    assert not set(ds.train.texts) & set(ds.test.texts)
