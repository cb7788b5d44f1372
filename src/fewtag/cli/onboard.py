"""``fewtag onboard OWNER/REPO``: draft ``.github/fewtag.yml`` from the labelled history, train the
first model and write the quality report (the onboarding workflow opens a pull request with them)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import typer

from fewtag.cli._app import app, info, out, step_progress
from fewtag.data.store import DEFAULT_STORE


@app.command("onboard")
def onboard_command(
    repo: str = typer.Argument(..., metavar="OWNER/REPO"),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="SQLite store with the fetched issues."),
    config_path: Path = typer.Option(
        Path(".github/fewtag.yml"), "--config", help="The config to write (kept if it exists)."
    ),
    model: Path = typer.Option(Path(".github/fewtag-model"), "--model", help="The model folder to write."),
    report: Path = typer.Option(Path(".github/fewtag-report.md"), "--report", help="The quality report to write."),
    method: str = typer.Option("tfidf-logreg", "--method", "-m", help="Method to train."),
    min_issues: int = typer.Option(10, "--min-issues", min=2, help="Manage labels at least this many issues carry."),
) -> None:
    """Draft the config (an existing one is kept), train on the issues with its labels, write the report."""
    from fewtag.data.store import Store
    from fewtag.deploy.config import load_config
    from fewtag.deploy.feedback import training_rows
    from fewtag.deploy.onboard import draft_config, quality_report
    from fewtag.github.names import parse_repo
    from fewtag.io import atomic_file
    from fewtag.pipeline import train_model

    owner, name = parse_repo(repo)
    repo = f"{owner}/{name}"
    with Store(store) as s:
        if not config_path.exists():
            config_path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(config_path) as fh:
                fh.write(draft_config(s, repo, min_issues=min_issues, model=str(model)))
            info(f"wrote a draft config to {config_path}")
        config = load_config(config_path)
        rows = training_rows(s, repo, config)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "labelled.jsonl"
        data.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        info(f"training {method} on {len(rows)} labelled issues of {repo}")
        with step_progress():
            tagger, metrics = train_model(data, method, model, log=info)
    cal = tagger.calibration()
    text = quality_report(repo, method, metrics, cal.ece if cal is not None else None)
    with atomic_file(report) as fh:
        fh.write(text)
    out.print(text, highlight=False, markup=False)
