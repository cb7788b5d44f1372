"""``fewtag feedback OWNER/REPO``: what people did with fewtag's labels, per label, and the
corrections as training files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from fewtag.cli._app import Spinner, app, fail, info, out
from fewtag.cli.fetch import API_URL_OPTION, TOKEN_ENV_OPTION
from fewtag.data.store import DEFAULT_STORE

if TYPE_CHECKING:
    from fewtag.deploy.feedback import FeedbackReport


def _since(since: str | None, days: int | None) -> str | None:
    import datetime as dt

    from fewtag.github.sync import resolve_since

    if since and days:
        fail("give --since or --days, not both")
    if days:
        return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    from fewtag.data.store import Store

    return resolve_since(Store(":memory:"), "o/r", since) if since else None


@app.command("feedback")
def feedback_command(
    repo: str = typer.Argument(..., metavar="OWNER/REPO"),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="SQLite store file."),
    config_path: Path = typer.Option(Path(".github/fewtag.yml"), "--config", help="The repository config."),
    since: str = typer.Option(None, "--since", help="Window start (ISO date/time)."),
    days: int = typer.Option(None, "--days", min=1, help="Window: the last N days."),
    refresh: bool = typer.Option(
        False, "--refresh", help="First read label events, the repository's labels and reactions from GitHub."
    ),
    bot: list[str] = typer.Option(
        ["github-actions[bot]"], "--bot", help="Login whose labeled events are fewtag's (repeatable)."
    ),
    model: Path = typer.Option(None, "--model", help="The deployed model: its labels are checked for retirement."),
    export_training: Path = typer.Option(
        None, "--export-training", help="Write the corrected labelled issues (JSONL)."
    ),
    export_holdout: Path = typer.Option(
        None, "--export-holdout", help="With --export-training: write the newest issues here instead (JSONL)."
    ),
    holdout: float = typer.Option(0.2, "--holdout", help="Share of the newest issues for --export-holdout."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    token_env: str = TOKEN_ENV_OPTION,
    api_url: str = API_URL_OPTION,
) -> None:
    """Per label: added, kept, removed (a negative example), missed (a positive fewtag did not add),
    live precision and recall over a window, 👍/👎 on fewtag's comment; flags retired labels."""
    from fewtag.data.store import Store
    from fewtag.deploy.config import load_config
    from fewtag.deploy.feedback import feedback_report, training_rows
    from fewtag.github.names import parse_repo

    owner, name = parse_repo(repo)
    repo = f"{owner}/{name}"
    config = load_config(config_path)
    start = _since(since, days)
    if export_holdout is not None and export_training is None:
        fail("--export-holdout goes with --export-training")
    if not 0 < holdout < 1:
        fail(f"--holdout must be a fraction between 0 and 1; got {holdout}")
    predicted = None
    if model is not None:
        from fewtag.registry import load_tagger

        predicted = list(load_tagger(model).classes_)
    with Store(store) as s:
        if refresh:
            from fewtag.github.client import GitHubClient
            from fewtag.github.events import fetch_feedback

            with GitHubClient.from_env(token_env, api_url) as client, Spinner(f"{repo}: label events") as spin:
                got = fetch_feedback(client, s, repo, since=start, on_issue=lambda n: spin.show(f"{repo}: #{n}"))
            info(
                f"{repo}: {got.events} label events of {got.issues} issues, {got.reactions} reactions, "
                f"{got.labels} repository labels"
            )
        report = feedback_report(s, repo, config, since=start, bots=tuple(bot), predicted=predicted)
        rows = training_rows(s, repo, config, bots=tuple(bot)) if export_training is not None else []
    if export_training is not None:
        _write_training(rows, export_training, export_holdout, holdout)
    if as_json:
        out.print_json(
            json.dumps(
                {"repo": repo, "since": start, "issues": report.issues, "labels": [r.to_dict() for r in report.labels]}
            )
        )
        return
    _print(report)


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def _print(report: FeedbackReport) -> None:
    from rich.table import Table

    window = f" since {report.since}" if report.since else ""
    table = Table(title=f"{report.repo}: fewtag's labels{window} ({report.issues} issues triaged)")
    for col in ("label", "added", "kept", "removed", "missed", "precision", "recall", "👍", "👎", ""):
        table.add_column(col, justify="left" if col in ("label", "") else "right")
    for r in [*report.labels, report.total()]:
        flag = "retired in the repo, still predicted" if r.retired else ""
        table.add_row(
            r.label,
            str(r.added),
            str(r.kept),
            str(r.removed),
            str(r.missed),
            _fmt(r.precision),
            _fmt(r.recall),
            str(r.thumbs_up) if r.label != "all" else "",
            str(r.thumbs_down) if r.label != "all" else "",
            flag,
        )
    out.print(table)


def _write_training(rows: list[dict], train: Path, held: Path | None, share: float) -> None:
    from fewtag.io import atomic_file

    if not rows:
        fail("no issue carries a managed label: nothing to train on")
    cut = len(rows) - max(1, int(round(len(rows) * share))) if held is not None else len(rows)
    parts = [(train, rows[:cut])] + ([(held, rows[cut:])] if held is not None else [])
    for path, part in parts:
        with atomic_file(path) as fh:
            fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part))
        info(f"wrote {len(part)} labelled issues to {path}")
