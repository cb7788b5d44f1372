"""``fewtag next`` -> fill the batch file -> ``fewtag import`` -> the annotations log has them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
from fewtag.active.batch import is_batch_file, read_batch
from fewtag.active.session import pool
from fewtag.cli import app
from fewtag.data.store import Store
from fewtag.errors import DataFormatError, TaggerError

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def fewtag_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from fewtag.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_rows(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_round_trip_next_fill_import_next(store, task, gold, tmp_path):
    db = store.path
    batch = tmp_path / "batch.csv"
    r = invoke("next", "--store", db, "--labels", "bug,docs,question", "--n", "6", "--out", str(batch))
    assert r.exit_code == 0, r.output
    assert "next 6 issues of o/r to label" in r.output and "fewtag import" in r.output
    rows = read_rows(batch)
    assert len(rows) == 6 and all(row["labels"] == "" for row in rows)
    assert rows[0]["choices"] == "one of: bug | docs | question" and rows[0]["fewtag_batch"].startswith("tfidf-logreg")
    offered = [row["id"] for row in rows]
    for row in rows[:4]:  # the labeller fills four rows and leaves two
        row["labels"] = gold[row["id"]]
    write_rows(batch, rows)
    assert is_batch_file(batch)
    before = store.count()
    r = invoke("import", str(batch), "--store", db)
    assert r.exit_code == 0, r.output
    assert "4 labels added to the annotations log" in r.output and "2 rows left empty" in r.output
    assert store.count() == before  # items untouched
    log = store.annotation_log()
    assert [(a.item_id, a.labels, a.source) for a in log] == [(i, [gold[i]], "import") for i in offered[:4]]
    assert log[0].model_version == rows[0]["fewtag_batch"]
    left = {i.id for i in pool(store, task)}
    assert not set(offered[:4]) & left and set(offered[4:]) <= left
    r = invoke("next", "--store", db, "--labels", "bug,docs,question", "--n", "40", "--out", str(tmp_path / "b2.jsonl"))
    assert r.exit_code == 0, r.output
    again = [json.loads(line)["id"] for line in open(tmp_path / "b2.jsonl", encoding="utf-8")]
    assert not set(offered[:4]) & set(again) and len(again) == 40


def test_unknown_label_is_one_line_naming_the_row_and_nothing_is_written(store, tmp_path):
    batch = tmp_path / "batch.csv"
    assert (
        invoke(
            "next", "--store", store.path, "--labels", "bug,docs,question", "--n", "3", "--out", str(batch)
        ).exit_code
        == 0
    )
    rows = read_rows(batch)
    rows[0]["labels"], rows[1]["labels"] = "bug", "feature"
    write_rows(batch, rows)
    p = fewtag_cli("import", str(batch), "--store", store.path)
    assert p.returncode == 1
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "batch.csv:3" in lines[0] and "unknown label 'feature'" in lines[0], p.stderr
    assert store.annotation_log() == []


def test_batch_checks(tmp_path, store):
    rows = [
        {"fewtag_batch": "v1", "repo": "o/r", "id": "10", "labels": "bug; docs", "choices": "any of: bug | docs"},
        {"fewtag_batch": "v1", "repo": "o/r", "id": "11", "labels": "-", "choices": "any of: bug | docs"},
        {"fewtag_batch": "v1", "repo": "o/r", "id": "12", "labels": "", "choices": "any of: bug | docs"},
    ]
    p = tmp_path / "b.csv"
    write_rows(p, rows)
    filled, empty = read_batch(p)
    assert [(r.id, r.labels) for r in filled] == [("10", ["bug", "docs"]), ("11", [])] and empty == 1
    rows[0]["choices"] = "one of: bug | docs"
    write_rows(p, rows)
    with pytest.raises(DataFormatError, match="b.csv:2: one label per issue"):
        read_batch(p)
    rows[0].update(labels="bug", id="999")
    write_rows(p, rows)
    from fewtag.active.batch import import_batch

    with pytest.raises(DataFormatError, match="no item o/r#999"):
        import_batch(p, store)
    assert store.annotation_log() == []


def test_a_plain_csv_still_imports_as_items(tmp_path):
    p = tmp_path / "plain.csv"
    p.write_text("id,text,label\n1,crash on start,bug\n2,typo,docs\n", encoding="utf-8")
    assert not is_batch_file(p)
    db = tmp_path / "p.db"
    r = invoke("import", str(p), "--store", str(db))
    assert r.exit_code == 0 and "2 new" in r.output
    with Store(db) as s:
        assert s.count() == 2 and s.annotation_log() == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--n", "3"], "--labels a,b,c or a dataset config"),
        (["--labels", "bug,docs", "--strategy", "margin"], "Available: random, least-confidence"),
        (["--labels", "bug", "--n", "3"], "at least 2 labels"),
        (["--labels", "bug,docs", "--out", "x.txt"], "--out must end in .csv or .jsonl"),
        (["--labels", "bug,docs", "--n", "0"], "--n must be a positive integer"),
    ],
)
def test_next_bad_input_fails_with_one_message(store, args, message):
    """In process: either ``fail`` printed one line, or a TaggerError (which ``run`` prints as one line)."""
    r = runner.invoke(app, ["next", "--store", store.path, *args])
    assert r.exit_code == 1
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        assert isinstance(r.exception, TaggerError) and message in str(r.exception)
    else:
        lines = [line for line in r.output.splitlines() if line.strip()]
        assert len(lines) == 1 and message in lines[0], r.output
    assert store.annotation_log() == []


def test_next_with_a_missing_store(tmp_path):
    r = runner.invoke(app, ["next", "--store", str(tmp_path / "none.db"), "--labels", "a,b"])
    assert r.exit_code == 1 and "does not exist" in r.output and not (tmp_path / "none.db").exists()


def test_jsonl_batch_round_trip_multi_label(store, tmp_path):
    from fewtag.active.batch import import_batch, write_batch
    from fewtag.active.session import next_batch
    from fewtag.active.task import LabelTask

    task = LabelTask(["bug", "docs", "question"], multi_label=True)
    path = write_batch(next_batch(store, task, n=3), task, tmp_path / "b.jsonl")
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert all(r["labels"] == [] and r["choices"] == "any of: bug | docs | question" for r in rows)
    rows[0]["labels"], rows[1]["labels"] = ["docs", "bug"], "-"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = import_batch(path, store, who="ana")
    assert (done.added, done.empty) == (2, 1)
    got = {a.item_id: (a.labels, a.who) for a in store.current_annotations()}
    assert got == {rows[0]["id"]: (["bug", "docs"], "ana"), rows[1]["id"]: ([], "ana")}
    # "none of these" counts as labelled in a multi-label task: neither item is offered again
    assert not {rows[0]["id"], rows[1]["id"]} & {i.id for i in pool(store, task)}


def test_next_with_a_config_and_the_history_in_the_store(store, tmp_path):
    from fewtag.active.session import round_history, stopping_hint
    from fewtag.active.task import LabelTask

    cfg = tmp_path / "dataset.toml"
    cfg.write_text('[labels]\nkeep = ["bug", "docs", "question"]\nmap = { triage = "" }\n')
    r = invoke("next", "--store", store.path, "--config", str(cfg), "--n", "4")
    assert r.exit_code == 0, r.output
    assert "9 labelled (bug 3, docs 3, question 3)" in r.output and "cross-validated macro F1" in r.output
    task = LabelTask.from_config(cfg, store=store)
    history = round_history(store, task)
    assert len(history) == 1 and history[0]["n_labelled"] == 9 and history[0]["estimate"]["macro_f1"]["mean"] >= 0
    assert invoke("next", "--store", store.path, "--config", str(cfg), "--n", "4").exit_code == 0
    assert len(round_history(store, task)) == 1  # the same model version is recorded once
    assert stopping_hint([(h["n_labelled"], h["estimate"]) for h in history]) is None
