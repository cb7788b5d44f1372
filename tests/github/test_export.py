"""``fewtag export``: JSON lines / CSV / Parquet that ``datasets`` reads back."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401
from fewtag.cli import app
from fewtag.data.export import COLUMNS, export_store
from fewtag.data.store import Item, Store
from fewtag.errors import InputError

ITEMS = [
    Item(
        "o/r",
        "1",
        title="Crash",
        body='boom, "quoted"\nnew line',
        labels=["bug", "ui"],
        number=1,
        state="open",
        created_at="2024-01-01T00:00:00Z",
        updated_at="2024-01-02T00:00:00Z",
    ),
    Item(
        "o/r",
        "2",
        title="Add yaml",
        body="",
        labels=[],
        number=2,
        is_pr=True,
        state="closed",
        created_at="2024-01-03T00:00:00Z",
        updated_at="2024-01-04T00:00:00Z",
    ),
    Item(
        "x/y",
        "7",
        title="Ünïcode ✓",
        body="日本語",
        labels=["docs"],
        number=7,
        state="open",
        created_at="2024-02-01T00:00:00Z",
        updated_at="2024-02-02T00:00:00Z",
    ),
]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    with Store(path) as s:
        s.upsert_items(ITEMS)
    return path


def _load(fmt, path):
    datasets = pytest.importorskip("datasets")
    kind = "json" if fmt == "jsonl" else fmt
    return datasets.load_dataset(kind, data_files=str(path), split="train", cache_dir=str(path.parent / "hf-cache"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_round_trip_through_datasets(db, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    res = CliRunner().invoke(app, ["export", "--format", fmt, "--store", str(db), "--out", str(out)])
    assert res.exit_code == 0, res.output
    ds = _load(fmt, out)
    assert ds.column_names == list(COLUMNS)
    assert len(ds) == 3
    labels = [json.loads(x) if fmt == "csv" else x for x in ds["labels"]]
    assert labels == [["bug", "ui"], [], ["docs"]]
    assert ds["is_pull_request"] == [False, True, False]
    assert ds["number"] == [1, 2, 7]
    assert ds["text"][0] == 'Crash\n\nboom, "quoted"\nnew line'
    assert ds["title"][2] == "Ünïcode ✓" and ds["body"][2] == "日本語"
    assert list(ds["repo"]) == ["o/r", "o/r", "x/y"]
    assert [str(x) for x in ds["id"]] == ["1", "2", "7"]  # CSV type inference makes these ints


def test_filters_and_stdout(db, tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["export", "--store", str(db), "--out", "-", "--repo", "o/r", "--no-prs"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["number"] for r in rows] == [1]


def test_errors_leave_no_file(db, tmp_path):
    with Store(db) as s:
        with pytest.raises(InputError, match="--format must be one of jsonl, csv, parquet"):
            export_store(s, tmp_path / "a.xml", format="xml")
        with pytest.raises(InputError, match="no items of a/b; repositories in it: o/r, x/y"):
            export_store(s, tmp_path / "a.jsonl", repo="a/b")
        with pytest.raises(InputError, match="Parquet cannot go to stdout"):
            export_store(s, "-", format="parquet")
    res = CliRunner().invoke(app, ["export", "--store", str(tmp_path / "missing.db")])
    assert res.exit_code != 0 and "does not exist" in str(res.exception)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.db", "s.db-shm", "s.db-wal"] or sorted(
        p.name for p in tmp_path.iterdir()
    ) == ["s.db"]
