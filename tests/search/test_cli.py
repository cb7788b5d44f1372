from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
import fewtag.search.encoder as search_encoder
from fewtag.cli import app


@pytest.fixture
def fake(monkeypatch, encoder):
    monkeypatch.setattr(search_encoder, "load_encoder", lambda model=None, max_length=256: encoder)
    return encoder


def test_index_search_similar(store, fake):
    runner = CliRunner()
    db = store.path
    res = runner.invoke(app, ["index", "--store", db, "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    assert report["n_embedded"] == 6 and report["duplicate"]["truth"] == "pairs"
    again = json.loads(runner.invoke(app, ["index", "--store", db, "--json"]).stdout)
    assert again["n_embedded"] == 0 and again["n_reused"] == 6

    res = runner.invoke(app, ["search", "load_dataset never returns", "-k", "2", "--store", db, "--json"])
    assert res.exit_code == 0, res.output
    hits = json.loads(res.stdout)["hits"]
    assert [h["id"] for h in hits][:2] in (["1", "3"], ["3", "1"])

    res = runner.invoke(app, ["similar", "o/r#1", "--store", db, "-k", "3"])
    assert res.exit_code == 0, res.output
    assert "o/r#3" in res.stdout and "likely duplicate of o/r#3" in res.stdout


def test_errors_are_one_line(tmp_path, fake):
    runner = CliRunner()
    res = runner.invoke(app, ["similar", "nope", "--store", str(tmp_path / "none.db")])
    assert res.exit_code != 0 and "OWNER/REPO#N" in str(res.exception)
    res = runner.invoke(app, ["search", "x", "--store", str(tmp_path / "none.db")])
    assert res.exit_code != 0 and "does not exist" in str(res.exception)
