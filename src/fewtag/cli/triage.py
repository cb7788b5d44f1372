"""``fewtag triage OWNER/REPO#N``: label one issue per ``.github/fewtag.yml`` and explain it in one comment."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fewtag.cli._app import app, fail, out
from fewtag.cli.fetch import API_URL_OPTION, TOKEN_ENV_OPTION


@app.command("triage")
def triage_command(
    issue: str = typer.Argument(..., metavar="OWNER/REPO#N", help="The issue, e.g. huggingface/datasets#7426."),
    config_path: Path = typer.Option(Path(".github/fewtag.yml"), "--config", help="The repository config."),
    model: Path = typer.Option(None, "--model", help="Model folder (default: the config's `model`)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Decide and print the comment; write nothing."),
    store: str = typer.Option(
        None,
        "--store",
        help="SQLite store: labelled issues to link as neighbours, label actions recorded. With --dry-run the "
        "issue is read from it, offline.",
    ),
    online: bool = typer.Option(False, "--online", help="With --store --dry-run: still read the issue from GitHub."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
    token_env: str = TOKEN_ENV_OPTION,
    api_url: str = API_URL_OPTION,
) -> None:
    """Label one issue: allow-listed labels over their thresholds, add-only, never re-adding one a
    human removed; keep one explanatory comment (edited on rerun). Idempotent."""
    from fewtag.data.store import Store
    from fewtag.deploy.config import load_config
    from fewtag.deploy.triage import load_models, parse_issue, triage_issue
    from fewtag.github.client import GitHubClient

    repo, number = parse_issue(issue)
    config = load_config(config_path)
    models = load_models(config, model=model)
    offline = dry_run and store is not None and not online
    client = None if offline else GitHubClient.from_env(token_env, api_url)
    if client is not None and not client.authenticated and not (dry_run or config.dry_run):
        client.close()
        fail(f"labelling needs a token: set ${token_env} (or use --dry-run)")
    db = Store(store) if store is not None else None
    try:
        result = triage_issue(
            repo,
            number,
            config=config,
            models=models,
            client=client,
            store=db,
            dry_run=dry_run,
            model_name=str(model or config.model),
        )
    finally:
        if client is not None:
            client.close()
        if db is not None:
            db.close()
    if as_json:
        out.print_json(json.dumps({**result.to_dict(), "comment_body": result.comment}))
        return
    head = f"{repo}#{number}"
    if result.skipped:
        out.print(f"{head}: skipped: {result.skipped}", highlight=False)
        return
    verb = "would add" if result.dry_run else "added"
    added = [a for a in result.actions if a.label in result.added]
    shown = ", ".join(f"{a.label} ({a.score:.2f})" if a.score is not None else a.label for a in added) or "nothing"
    out.print(f"{head}: {verb} {shown}", highlight=False)
    for a in result.actions:
        if a.action not in ("added", "planned"):
            out.print(f"  {a.label}: {a.action} ({a.reason})", highlight=False)
    if result.comment is not None:
        what = {"planned": "comment it would write", "unchanged": "comment (unchanged)"}.get(
            result.comment_action or "", f"comment {result.comment_action}"
        )
        out.print(f"--- {what} ---", highlight=False)
        out.print(result.comment, highlight=False, markup=False)
    failed = [a for a in result.actions if a.action == "failed"]
    if failed:
        fail(f"{len(failed)} label(s) could not be added: {failed[0].reason}")
