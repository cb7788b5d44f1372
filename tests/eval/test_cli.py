"""`fewtag bench` through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import fewtag.cli  # noqa: F401 - registers every command
from fewtag.cli import app
from fewtag.errors import UnknownMethodError

runner = CliRunner()


def test_cli_bench_writes_a_run(single_data, tmp_path):
    out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "bench",
            str(single_data),
            "--methods",
            "naive-bayes,tfidf-logreg",
            "--slices",
            "8,all",
            "--seeds",
            "1",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and "micro F1" in res.output
    assert (
        (out / "results.csv")
        .read_text()
        .startswith(
            "method,slice,slice_size,seed,val_micro_f1,val_macro_f1,micro_f1,macro_f1,accuracy,train_s,predict_s,"
            "peak_mb,status\n"
        )
    )
    assert (out / "learning_curves.png").is_file()


def test_cli_unknown_method(single_data, tmp_path):
    res = runner.invoke(app, ["bench", str(single_data), "--methods", "bayes", "--out", str(tmp_path / "r")])
    assert res.exit_code == 1
    assert isinstance(res.exception, UnknownMethodError)
    assert "Available:" in str(res.exception)
    assert not (tmp_path / "r").exists()


def test_cli_all_runs_failed_exits_1_but_reports(single_data, tmp_path, test_methods):
    out = tmp_path / "run"
    res = runner.invoke(
        app, ["bench", str(single_data), "--methods", "test-failing", "--slices", "all", "--out", str(out), "--quiet"]
    )
    assert res.exit_code == 1
    assert "every run failed" in res.output
    assert "big-nli" in (out / "report.md").read_text()


def test_cli_bad_input_is_one_red_line(tmp_path):
    exe = Path(sys.executable).with_name("fewtag")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from fewtag.cli import main; main()"]
    res = subprocess.run(
        cmd + ["bench", str(tmp_path / "missing"), "--methods", "naive-bayes", "--out", str(tmp_path / "run")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "1000"},
    )
    assert res.returncode == 1
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "does not exist" in lines[0]
    assert not (tmp_path / "run").exists()
