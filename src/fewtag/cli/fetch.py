"""``fewtag fetch``: a GitHub repository's issues into the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from fewtag.cli._app import Spinner, app, console, info, out, state
from fewtag.data.store import DEFAULT_STORE

if TYPE_CHECKING:
    from fewtag.github.sync import FetchResult

#: Shared by every command that talks to the GitHub API.
TOKEN_ENV_OPTION = typer.Option(
    "GITHUB_TOKEN",
    "--token-env",
    help="Environment variable holding the token (the token itself is never printed or stored).",
)
API_URL_OPTION = typer.Option(
    None, "--api-url", help="API base URL (default $GITHUB_API_URL or https://api.github.com)."
)


class _Display(Spinner):
    """A live status line on a terminal; plain lines for waits otherwise; nothing with --quiet."""

    def __init__(self, repo: str):
        super().__init__(f"{repo}: starting")
        self.repo, self.waiting = repo, False

    def page(self, r: FetchResult) -> None:
        quota = f"{r.rate_remaining}/{r.rate_limit}" if r.rate_remaining is not None else "?"
        self.show(
            f"{self.repo}: {r.items} items ({r.issues} issues, {r.prs} PRs), {r.comments} comments, "
            f"{r.pages} pages, quota left {quota}"
        )

    def wait(self, seconds: float, reason: str) -> None:
        if self.active:
            self.show(f"{self.repo}: {reason}: resuming in {seconds:.0f} s")
        elif not state.quiet and seconds > 0 and not self.waiting:
            console.print(f"{reason}: waiting {seconds:.0f} s", highlight=False)
        self.waiting = seconds > 0


@app.command("fetch")
def fetch_command(
    repo: str = typer.Argument(..., metavar="OWNER/REPO", help="The repository, e.g. huggingface/datasets."),
    store: str = typer.Option(DEFAULT_STORE, "--store", help="SQLite store file."),
    since: str = typer.Option(
        None,
        "--since",
        help="Only issues updated since this ISO date/time, or 'auto' to continue from the newest one stored.",
    ),
    comments: bool = typer.Option(False, "--comments", help="Also fetch every issue's comments."),
    events: bool = typer.Option(
        False,
        "--events",
        help="Also read label events (who added or removed which label) and the reactions on fewtag's "
        "comments: the corrections `fewtag feedback` counts and retraining learns from.",
    ),
    issue_state: str = typer.Option("all", "--state", help="all|open|closed"),
    max_items: int = typer.Option(None, "--max", help="Stop after N issues/PRs."),
    token_env: str = TOKEN_ENV_OPTION,
    api_url: str = API_URL_OPTION,
) -> None:
    """Fetch issues and pull requests of OWNER/REPO from the GitHub REST API (resumable)."""
    from fewtag.data.store import Store
    from fewtag.github.client import GitHubClient
    from fewtag.github.names import parse_repo
    from fewtag.github.sync import fetch_repo

    parse_repo(repo)
    with _Display(repo) as show:
        client = GitHubClient.from_env(token_env, api_url, on_wait=show.wait)
        if not client.authenticated:
            info(f"no token in ${token_env}: anonymous requests (a low rate limit on github.com)")
        with client, Store(store) as s:
            r = fetch_repo(
                s,
                repo,
                client=client,
                since=since,
                comments=comments,
                events=events,
                state=issue_state,
                max_items=max_items,
                on_page=show.page,
            )
    quota = f"{r.rate_remaining}/{r.rate_limit}" if r.rate_remaining is not None else "unknown"
    since_txt = f" since {r.since}" if r.since else ""
    out.print(
        f"{r.repo}{since_txt}: {r.items} items ({r.issues} issues, {r.prs} pull requests): "
        f"{r.inserted} new, {r.updated} updated, {r.unchanged} unchanged"
        + (f", {r.older} older than the stored version (kept the stored)" if r.older else "")
        + f"; {r.comments} comments; "
        + (f"{r.label_events} label events; " if events else "")
        + f"{r.pages} pages ({r.not_modified} not modified), {r.requests} requests; "
        f"quota left {quota} -> {store}"
        + (f" ({r.resyncs} re-read passes: issues changed during the fetch)" if r.resyncs else ""),
        highlight=False,
    )
