"""The CLI contract of import / stats / prepare / train / predict, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
from fewtag.cli import app

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def fewtag_cli(*args: str, cwd=None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the real entry point (error handling included) in a subprocess."""
    code = "from fewtag.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        env={**os.environ, "COLUMNS": "200"},
        timeout=120,
    )


@pytest.fixture
def prepared(tmp_path, dump_path, config_path):
    db = tmp_path / "s.db"
    assert invoke("import", str(dump_path), "--store", str(db)).exit_code == 0
    r = invoke("prepare", "--config", str(config_path), "--store", str(db), "--out", str(tmp_path / "prep"))
    assert r.exit_code == 0, r.output
    return tmp_path / "prep"


def test_import_then_stats_json(tmp_path, dump_path):
    db = tmp_path / "s.db"
    r = invoke("import", str(dump_path), "--store", str(db))
    assert r.exit_code == 0 and "130 new" in r.output
    assert "130 unchanged" in invoke("import", str(dump_path), "--store", str(db)).output
    r = invoke("stats", "--store", str(db), "--json", "--plot", str(tmp_path / "w.png"))
    st = json.loads(r.stdout)
    assert (st["items"], st["issues"], st["pull_requests"], st["labelled_issues"]) == (130, 120, 10, 90)
    assert (tmp_path / "w.png").exists()


def test_train_and_predict_jsonl_in_input_order(tmp_path, prepared):
    model = tmp_path / "model"
    r = invoke("train", str(prepared), "--method", "tfidf-logreg", "--out", str(model), "-p", "C=5")
    assert r.exit_code == 0, r.output
    meta = json.loads((model / "fewtag.json").read_text())
    assert meta["method"] == "tfidf-logreg" and meta["params"]["C"] == 5
    assert 0 <= meta["metrics"]["test"]["micro_f1"] <= 1 and meta["data_fingerprint"]
    lines = [
        json.dumps({"id": "z", "title": "crash error", "body": "traceback fails"}),
        "docs readme typo guide",
        json.dumps({"id": 7, "text": "add support option feature"}),
    ]
    r = invoke("predict", str(model), "-", input="\n".join(lines) + "\n")
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert [row["id"] for row in rows] == ["z", "2", "7"]
    assert rows[0]["labels"] == ["bug"] and rows[1]["labels"] == ["documentation"]
    assert set(rows[0]["scores"]) == {"bug", "enhancement", "documentation"}
    assert all(row["abstained"] is (not row["labels"]) for row in rows)


def test_train_on_a_labelled_file_directly(tmp_path):
    p = tmp_path / "emo.txt"
    words = {"joy": "happy glad great", "sadness": "sad down cry", "anger": "mad angry rage"}
    p.write_text("".join(f"i feel {words[lab].split()[i % 3]} today {i};{lab}\n" for i in range(60) for lab in words))
    r = invoke("train", str(p), "--method", "naive-bayes", "--out", str(tmp_path / "m"))
    assert r.exit_code == 0, r.output
    assert not json.loads((tmp_path / "m" / "fewtag.json").read_text())["multi_label"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["import", "{tmp}/missing.jsonl"], "does not exist"),
        (["import", "{tmp}/empty.jsonl"], "is empty"),
        (["import", "{tmp}/broken.jsonl"], "broken.jsonl:2: malformed JSON"),
        (["import", "{tmp}/latin1.jsonl"], "not UTF-8"),
        (["import", "{tmp}/empty.jsonl", "--format", "yaml"], "unknown format"),
        (["train", "{tmp}/prep", "--method", "set-fit", "--out", "{tmp}/m"], "'set-fit' is not a method"),
        (["predict", "{tmp}/no-model", "-"], "does not exist"),
        (["prepare", "--config", "{tmp}/nope.toml", "--out", "{tmp}/p2"], "config file"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(tmp_path, args, message):
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "broken.jsonl").write_text('{"text": "a", "labels": []}\n{"text": \n')
    (tmp_path / "latin1.jsonl").write_bytes(b'{"text": "caf\xe9"}\n')
    (tmp_path / "prep").mkdir()
    db = tmp_path / "s.db"
    args = [a.format(tmp=tmp_path) for a in args]
    if args[0] == "import":
        args += ["--store", str(db)]
    r = fewtag_cli(*args, cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert message in r.stderr
    assert len([line for line in r.stderr.splitlines() if "error" in line.lower()]) == 1
    assert not db.exists() or "0 new" not in r.stdout
    assert not (tmp_path / "m").exists() and not (tmp_path / "p2").exists()


def test_bad_import_leaves_store_untouched(tmp_path, dump_path):
    db = tmp_path / "s.db"
    assert invoke("import", str(dump_path), "--store", str(db)).exit_code == 0
    bad = tmp_path / "bad.jsonl"
    good_line = dump_path.read_text().splitlines()[0].replace('"number": 1,', '"number": 999,')
    bad.write_text(good_line + "\n{oops\n")
    r = fewtag_cli("import", str(bad), "--store", str(db))
    assert r.returncode == 1
    from fewtag.data.store import Store

    with Store(db) as s:
        assert s.count() == 130 and s.get_item("acme/widgets", 999) is None


def test_predict_rejects_malformed_json_line(tmp_path, prepared):
    model = tmp_path / "model"
    assert invoke("train", str(prepared), "--method", "naive-bayes", "--out", str(model)).exit_code == 0
    r = fewtag_cli("predict", str(model), "-", stdin='{"text": "ok"}\n{"text": \n')
    assert r.returncode == 1 and "<stdin>:2: malformed JSON" in r.stderr


def test_help_for_every_command():
    for name in ("import", "stats", "prepare", "train", "predict", "methods"):
        r = invoke(name, "--help")
        assert r.exit_code == 0 and "Usage" in r.output


def test_train_with_augmentation_wraps_the_method(tmp_path, prepared):
    model = tmp_path / "aug"
    r = invoke(
        "train", str(prepared), "--method", "naive-bayes", "--augment", "eda", "--n-aug", "2", "--out", str(model)
    )
    assert r.exit_code == 0, r.output
    meta = json.loads((model / "fewtag.json").read_text())
    assert meta["method"] == "augmented"
    assert meta["params"]["base"] == "naive-bayes" and meta["params"]["n_aug"] == 2


def test_no_arguments_prints_the_help_and_exits_0():
    done = fewtag_cli()
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout and "error" not in done.stderr.lower()


def test_a_command_that_fails_exits_non_zero(tmp_path):
    """``fail()`` raises ``typer.Exit(1)``; without standalone mode click returned it as 0."""
    f = tmp_path / "t.jsonl"
    f.write_text('{"text": "a", "label": "x"}\n', encoding="utf-8")
    done = fewtag_cli("train", str(f), "--method", "tfidf-logreg", "--out", str(tmp_path / "m"), "--time-budget", "5")
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error:") and len(done.stderr.strip().splitlines()) == 1


def test_brackets_in_an_error_are_printed_not_read_as_markup(tmp_path):
    # a missing extra names itself as fewtag[extra]; rich would swallow "[extra]" as a style tag
    res = fewtag_cli(
        "train",
        str(tmp_path / "missing.jsonl"),
        "--method",
        "tfidf-logreg",
        "--param",
        "x[y]=1",
        "--out",
        str(tmp_path / "m"),
    )
    assert res.returncode == 1
    assert "x[y]" in res.stderr, res.stderr
