"""`fewtag bench` end to end on the shared huggingface/datasets issues dump (slow)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fewtag.cli  # noqa: F401 - registers every command
from fewtag.cli import app

ROOT = Path(__file__).resolve().parents[2]
DUMP = ROOT.parent / "shared" / "data" / "github_issues_hf_datasets" / "datasets-issues.zip"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not DUMP.is_file(), reason=f"shared data missing: {DUMP}"),
]


def test_bench_on_hf_datasets_issues(tmp_path):
    runner = CliRunner()
    store = tmp_path / "fewtag.db"
    res = runner.invoke(app, ["import", str(DUMP), "--store", str(store)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        [
            "prepare",
            "--config",
            str(ROOT / "configs" / "hf-datasets.toml"),
            "--store",
            str(store),
            "--out",
            str(tmp_path / "hf"),
        ],
    )
    assert res.exit_code == 0, res.output
    out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "bench",
            str(tmp_path / "hf"),
            "--methods",
            "naive-bayes",
            "--slices",
            "8,32,128,all,4096",
            "--seeds",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    with open(out / "results.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 * 2 and {r["status"] for r in rows} == {"ok"}
    micro = {(r["slice"], r["seed"]): float(r["micro_f1"]) for r in rows}
    # more labels help, and the book's naive-bayes figure at the full slice is beaten
    assert micro[("all", "0")] > micro[("8", "0")]
    assert micro[("all", "0")] > 0.70
    report = (out / "report.md").read_text()
    assert "slice 4096 skipped" in report and "multi-label, 8 labels" in report
    assert not (out / "confusion_matrix.png").exists()
