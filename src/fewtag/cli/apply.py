"""``fewtag apply``: add predicted labels to open issues on GitHub."""

from __future__ import annotations

import typer

from fewtag.cli._app import Spinner, app, fail, info, out
from fewtag.cli.fetch import API_URL_OPTION, TOKEN_ENV_OPTION
from fewtag.data.store import DEFAULT_STORE


class _Ticker(Spinner):
    """A spinner with a count of issues handled."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what, self.n = what, 0

    def __call__(self, plan: object) -> None:
        self.n += 1
        self.show(f"{self.what}: {self.n} done (#{getattr(plan, 'number', '')})")


@app.command("apply")
def apply_command(
    model: str = typer.Argument(..., metavar="MODEL", help="A saved model folder."),
    repo: str = typer.Argument(..., metavar="OWNER/REPO", help="The repository (fetched into the store)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan as a table; change nothing."),
    min_score: float = typer.Option(
        None, "--min-score", help="Keep labels scoring at least P (default: the model's decision rule)."
    ),
    only_unlabelled: bool = typer.Option(False, "--only-unlabelled", help="Only issues with no label."),
    max_issues: int = typer.Option(None, "--max", help="Label at most N issues."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="SQLite store file."),
    token_env: str = TOKEN_ENV_OPTION,
    api_url: str = API_URL_OPTION,
) -> None:
    """Add predicted labels to open issues (never removes one, never re-adds one a human removed)."""
    from rich.table import Table

    from fewtag.data.store import Store
    from fewtag.github.apply import apply_labels
    from fewtag.github.client import GitHubClient
    from fewtag.github.names import parse_repo
    from fewtag.registry import load_tagger

    parse_repo(repo)
    tagger = load_tagger(model)
    client = GitHubClient.from_env(token_env, api_url)
    if not dry_run and not client.authenticated:
        client.close()
        fail(f"writing labels needs a token: set ${token_env} (or use --dry-run)")
    with client, Store(store) as s, _Ticker("checking issues") as tick:
        actions = apply_labels(
            tagger,
            s,
            repo,
            client=client,
            dry_run=dry_run,
            min_score=min_score,
            only_unlabelled=only_unlabelled,
            max_issues=max_issues,
            model=str(model),
            on_issue=tick,
        )
    title = f"{repo}: label plan (dry run, nothing changed)" if dry_run else f"{repo}: labels"
    table = Table(title=title)
    for col in ("issue", "label", "score", "action", "reason"):
        table.add_column(col, justify="right" if col in ("issue", "score") else "left")
    for a in actions:
        table.add_row(f"#{a.number}", a.label, f"{a.score:.3f}" if a.score is not None else "", a.action, a.reason)
    out.print(table)
    counts: dict[str, int] = {}
    for a in actions:
        counts[a.action] = counts.get(a.action, 0) + 1
    info(", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to do")
    if counts.get("failed"):
        fail(f"{counts['failed']} labels could not be added (see the table)")
