"""Hostile: `--out` pointed at a folder that is not fewtag's (issue 12, item 5).

`train`, `prepare` and `bench --out victim`, where victim holds someone's files,
must leave it untouched: exit 1, one error line naming the folder and offering
--force. With --force it is replaced; a folder fewtag wrote is replaced without.
"""

from __future__ import annotations

import json
import sys

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401  registers every command
from fewtag.cli import app
from fewtag.errors import InputError
from fewtag.io import MARKER
from tests.data.conftest import config_path, dump_path  # noqa: F401  (shared fixtures)

runner = CliRunner()
WORDS = {"joy": "happy glad great", "sadness": "sad down cry", "anger": "mad angry rage"}


@pytest.fixture
def labelled(tmp_path):
    p = tmp_path / "emo.txt"
    p.write_text("".join(f"i feel {WORDS[lab].split()[i % 3]} today {i};{lab}\n" for i in range(40) for lab in WORDS))
    return p


@pytest.fixture
def store(tmp_path, dump_path):  # noqa: F811
    db = tmp_path / "s.db"
    r = runner.invoke(app, ["import", str(dump_path), "--store", str(db)])
    assert r.exit_code == 0, r.output
    return db


@pytest.fixture
def victim(tmp_path):
    v = tmp_path / "victim"
    (v / "sub").mkdir(parents=True)
    (v / "thesis.tex").write_text("years of work")
    (v / "sub" / "data.csv").write_text("a,b\n")
    return v


def _snapshot(folder):
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in folder.rglob("*")}


@pytest.fixture
def command(request, labelled, store, config_path, tmp_path):  # noqa: F811
    """argv of one command writing to --out OUT, and the file that shows it ran."""

    def argv(out):
        if request.param == "train":
            return ["train", str(labelled), "--method", "naive-bayes", "--out", str(out)], "fewtag.json"
        if request.param == "prepare":
            return ["prepare", "--config", str(config_path), "--store", str(store), "--out", str(out)], "prepare.json"
        return [
            "bench",
            str(labelled),
            "--methods",
            "naive-bayes",
            "--slices",
            "all",
            "--quiet",
            "--out",
            str(out),
        ], "results.csv"

    return argv


COMMANDS = pytest.mark.parametrize("command", ["train", "prepare", "bench"], indirect=True)


@COMMANDS
def test_a_foreign_out_folder_survives_untouched(command, victim):
    before = _snapshot(victim)
    args, _ = command(victim)
    r = runner.invoke(app, args)
    assert r.exit_code == 1
    assert isinstance(r.exception, InputError)
    msg = str(r.exception)
    assert str(victim) in msg and "--force" in msg and "\n" not in msg
    assert _snapshot(victim) == before
    assert sorted(p.name for p in victim.parent.iterdir() if p.name.startswith(".victim")) == []


@COMMANDS
def test_force_replaces_a_foreign_out_folder(command, victim):
    args, made = command(victim)
    r = runner.invoke(app, [*args, "--force"])
    assert r.exit_code == 0, r.output
    assert (victim / made).is_file() and (victim / MARKER).is_file()
    assert not (victim / "thesis.tex").exists() and not (victim / "sub").exists()


@COMMANDS
def test_a_folder_fewtag_wrote_is_replaced_without_force(command, tmp_path):
    out = tmp_path / "out"
    args, made = command(out)
    assert runner.invoke(app, args).exit_code == 0
    (out / "stale.txt").write_text("left from the first run")
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    assert (out / made).is_file() and not (out / "stale.txt").exists()


def test_train_refuses_before_it_trains(labelled, victim, monkeypatch):
    def boom(*a, **k):
        raise AssertionError("trained although --out was refused")

    monkeypatch.setattr("fewtag.pipeline.train_model", boom)
    r = runner.invoke(app, ["train", str(labelled), "--method", "naive-bayes", "--out", str(victim)])
    assert r.exit_code == 1 and isinstance(r.exception, InputError)


def test_train_over_a_model_folder_from_before_the_marker(labelled, tmp_path):
    """Model folders written by older fewtag (fewtag.json, no marker) count as fewtag's."""
    out = tmp_path / "old-model"
    assert runner.invoke(app, ["train", str(labelled), "--method", "naive-bayes", "--out", str(out)]).exit_code == 0
    (out / MARKER).unlink()
    r = runner.invoke(app, ["train", str(labelled), "--method", "tfidf-logreg", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert json.loads((out / "fewtag.json").read_text())["method"] == "tfidf-logreg"


def test_train_will_not_replace_a_prepared_folder(labelled, tmp_path, store, config_path):  # noqa: F811
    prep = tmp_path / "prep"
    assert (
        runner.invoke(
            app, ["prepare", "--config", str(config_path), "--store", str(store), "--out", str(prep)]
        ).exit_code
        == 0
    )
    r = runner.invoke(app, ["train", str(labelled), "--method", "naive-bayes", "--out", str(prep)])
    assert r.exit_code == 1 and "holds a prepared dataset" in str(r.exception)
    assert (prep / "prepare.json").is_file()


def test_the_real_entry_point_prints_one_red_line(labelled, victim, monkeypatch, capsys):
    from fewtag.cli._app import run

    monkeypatch.setattr(
        sys, "argv", ["fewtag", "train", str(labelled), "--method", "naive-bayes", "--out", str(victim)]
    )
    with pytest.raises(SystemExit) as ex:
        run()
    assert ex.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "--force" in err[0]
    assert (victim / "thesis.tex").read_text() == "years of work"
