"""``fewtag tag --engine local`` and the store's predictions table (issue 16)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fewtag.data.store import Store
from fewtag.data.store_predictions import Selection
from fewtag.engine import model_key, tag_store
from fewtag.errors import ConfigError, InputError
from tests.engine.conftest import make_model, make_store
from tests.utils.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_put_predictions_never_writes_twice(tmp_path):
    with Store(tmp_path / "s.db") as s:
        row = {"repo": "o/r", "id": "1", "labels": ["bug"], "scores": {"bug": 0.9}, "abstained": False}
        assert s.put_predictions("m", "h1", [row]) == 1
        assert s.put_predictions("m", "h1", [{**row, "labels": []}]) == 0
        assert s.put_predictions("m", "h2", [row]) == 1  # another content hash is another model
        got = list(s.predictions("m", "h1"))
        assert [(p["id"], p["labels"], p["scores"], p["abstained"]) for p in got] == [
            ("1", ["bug"], {"bug": 0.9}, False)
        ]
        assert s.count_predictions() == 2


def test_selection_filters_and_skips_what_is_predicted(tmp_path):
    path = make_store(tmp_path / "s.db", 70)
    with Store(path) as s:
        everything = Selection(include_prs=True)
        assert s.check_selection(everything) == 70
        assert s.check_selection(Selection()) == 60  # 10 PRs left out
        assert s.check_selection(Selection(state="open", include_prs=True)) == 56
        assert s.check_selection(Selection(where="number <= 10", repo="o/r")) == 9
        assert s.check_selection(Selection(repo="x/y")) == 0
        first = next(s.untagged_chunks(Selection(), "m", "h", chunk_size=25))
        assert len(first) == 25 and first[0][2]["title"]
        s.put_predictions(
            "m", "h", [{"repo": r, "id": i, "labels": [], "scores": {}, "abstained": True} for r, i, _ in first]
        )
        left = [it for c in s.untagged_chunks(Selection(), "m", "h", chunk_size=25) for it in c]
        assert len(left) == 35 == s.count_untagged(Selection(), "m", "h")
        assert not {i for _, i, _ in first} & {i for _, i, _ in left}
        with pytest.raises(InputError, match="not a valid filter"):
            s.check_selection(Selection(where="nonsense ="))
        with pytest.raises(InputError, match="not a valid filter"):
            s.check_selection(Selection(where="1; DROP TABLE items"))
        assert s.count() == 70


def test_tag_store_local_predicts_like_predict(tmp_path, tfidf_model):
    from fewtag.pipeline import predict_records
    from fewtag.registry import load_tagger

    path = make_store(tmp_path / "s.db", 200)
    with Store(path) as s:
        report = tag_store(s, tfidf_model, batch_size=32)
        assert (report.selected, report.already, report.written) == (172, 0, 172)
        key = model_key(tfidf_model)
        stored = {p["id"]: p for p in s.predictions(key.model, key.hash)}
        items = [it for it in s.items(include_prs=False)]
        expected = predict_records(
            load_tagger(tfidf_model), [(it.id, {"title": it.title, "body": it.body}) for it in items]
        )
        for want in expected:
            got = stored[want["id"]]
            assert (got["labels"], got["scores"], got["abstained"]) == (
                want["labels"],
                want["scores"],
                want["abstained"],
            )
        again = tag_store(s, tfidf_model)
        assert (again.already, again.written) == (172, 0)


def test_retrained_model_is_a_new_key(tmp_path, tfidf_model):
    path = make_store(tmp_path / "s.db", 50)
    other = make_model(tmp_path / "tfidf", seed=7)  # same folder name, other weights
    with Store(path) as s:
        assert tag_store(s, tfidf_model).written == 43
        assert tag_store(s, other).written == 43
        assert s.count_predictions() == 86
        assert len({p["model_hash"] for p in s.predictions()}) == 2


def test_bad_options_fail_before_anything_loads(tmp_path, tfidf_model):
    path = make_store(tmp_path / "s.db", 10)
    with Store(path) as s:
        with pytest.raises(ConfigError, match="not an engine"):
            tag_store(s, tfidf_model, engine="spark")
        with pytest.raises(ConfigError, match="for --engine ray"):
            tag_store(s, tfidf_model, address="127.0.0.1:6379")
        with pytest.raises(InputError, match="not a valid filter"):
            tag_store(s, tfidf_model, Selection(where="))"))
        assert s.count_predictions() == 0


def test_cli_tag_reports_and_resumes(tmp_path, tfidf_model, monkeypatch, capsys):
    path = make_store(tmp_path / "s.db", 100)
    code, out, err = run_cli(monkeypatch, capsys, "tag", str(tfidf_model), "--store", str(path), "--state", "open")
    assert code == 0, err
    assert "tagged 68 of 68 selected items" in err
    code, out, err = run_cli(monkeypatch, capsys, "tag", str(tfidf_model), "--store", str(path), "--prs", "--json")
    assert code == 0, err
    import json

    report = json.loads(out)
    assert (report["selected"], report["already"], report["written"]) == (100, 68, 32)
    code, out, err = run_cli(monkeypatch, capsys, "tag", str(tfidf_model), "--store", str(path), "--where", "number >")
    assert code == 1 and err.count("\n") == 1 and "not a valid filter" in err
    code, out, err = run_cli(monkeypatch, capsys, "tag", str(tmp_path / "nope"), "--store", str(path))
    assert code == 1 and err.count("\n") == 1


def test_missing_ray_is_one_line_with_the_pip_command(tmp_path, tfidf_model, monkeypatch, capsys):
    path = make_store(tmp_path / "s.db", 10)
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    code, out, err = run_cli(monkeypatch, capsys, "tag", str(tfidf_model), "--store", str(path), "--engine", "ray")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: --engine ray needs Ray") and "pip install 'fewtag" in err
    from fewtag.engine.ray_engine import require_ray
    from fewtag.errors import MissingDependencyError

    with pytest.raises(MissingDependencyError, match=r"pip install 'fewtag\[ray\]'"):
        require_ray()
    with Store(path) as s:
        assert s.count_predictions() == 0


CHILD = """
import sys
sys.argv = ["fewtag", "--quiet", "tag", {model!r}, "--store", {db!r}, "--batch-size", "5"]
from fewtag.cli import main
main()
"""


@pytest.mark.slow  # a child process that imports the CLI: ~8 s on the shared cores
def test_local_tag_killed_mid_run_resumes_each_item_once(tmp_path, tfidf_model):
    n = 1500
    db = make_store(tmp_path / "s.db", n)
    key = model_key(tfidf_model)
    total = n - n // 7
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(model=str(tfidf_model), db=str(db))],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    seen = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and child.poll() is None:
            with sqlite3.connect(db) as conn:
                try:
                    seen = conn.execute("SELECT COUNT(*) FROM predictions").fetchone()[0]
                except sqlite3.OperationalError:  # the table is not there yet
                    seen = 0
            if seen >= 50:
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(0.005)
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode() if child.stderr else ""
    with Store(db) as s:
        before = s.count_predictions(key.model, key.hash)
        assert 50 <= before < total  # killed mid-run, with whole batches committed
        assert s.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        report = tag_store(s, tfidf_model, batch_size=100)
        assert report.already == before and report.written == total - before
        rows = s.conn.execute(
            "SELECT repo, id, COUNT(*) FROM predictions GROUP BY repo, id, model, model_hash"
        ).fetchall()
        assert len(rows) == total and {r[2] for r in rows} == {1}
