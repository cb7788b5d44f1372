"""fewtag onboard: a draft config from the labelled history, a first model and its report."""

from __future__ import annotations

from typer.testing import CliRunner

from fewtag.cli import app
from fewtag.deploy.config import load_config
from fewtag.github.sync import fetch_repo
from tests.deploy.conftest import REPO, TRAIN


def test_onboard_drafts_trains_and_reports(gh, client, store, tmp_path):
    n = 0
    for lab, texts in TRAIN.items():
        for t in texts * 2:
            n += 1
            gh.add_issue(REPO, n, t, f"more words about {lab} number {n}", labels=[lab], state="closed")
    gh.add_issue(REPO, n + 1, "a question", "", labels=["wontfix"], state="closed")
    fetch_repo(store, REPO, client=client)
    cfg, model, report = tmp_path / ".github" / "fewtag.yml", tmp_path / "model", tmp_path / "report.md"
    res = CliRunner().invoke(
        app,
        [
            "onboard",
            REPO,
            "--store",
            store.path,
            "--config",
            str(cfg),
            "--model",
            str(model),
            "--report",
            str(report),
            "--min-issues",
            "5",
        ],
    )
    assert res.exit_code == 0, res.output
    config = load_config(cfg)
    assert set(config.labels) == {"bug", "docs", "feature"}  # wontfix: a workflow label, and too rare
    assert (model / "fewtag.json").is_file()
    text = report.read_text()
    assert "micro F1" in text and "| `bug` |" in text
