"""``fewtag stats``: what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from fewtag.cli._app import app, fail, info, out
from fewtag.cli.import_cmd import STORE_OPTION


@app.command("stats")
def stats_command(
    store: str = STORE_OPTION,
    repo: str = typer.Option(None, "--repo", help="Only this OWNER/NAME."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    plot: Path = typer.Option(None, "--plot", help="Write the words-per-issue histogram PNG here."),
    top: int = typer.Option(40, "--top", help="Labels shown in the table."),
) -> None:
    """Counts: items, issues, pull requests, labelled issues, labels, words per issue."""
    from fewtag.data.stats import plot_words_histogram, store_stats
    from fewtag.data.store import Store

    if not Path(store).is_file():
        fail(f"store {store} does not exist; run `fewtag import` first")
    with Store(store) as s:
        st = store_stats(s, repo)
    words = st["words_per_issue"].pop("words")
    if plot is not None:
        plot_words_histogram(words, plot)
        info(f"histogram written to {plot}")
    if as_json:
        out.print_json(json.dumps(st))
        return
    summary = Table(title=f"{store}", show_header=False)
    for key in ("items", "issues", "pull_requests", "labelled_issues"):
        summary.add_row(key.replace("_", " "), f"{st[key]:,}")
    summary.add_row("repos", ", ".join(st["repos"]))
    out.print(summary)
    labels = Table("label", "issues", title="Labels (issues only)")
    for name, n in list(st["labels"].items())[:top]:
        labels.add_row(name, str(n))
    if len(st["labels"]) > top:
        labels.add_row(f"… {len(st['labels']) - top} more", "")
    out.print(labels)
    per = Table("labels per issue", "issues")
    for k, n in st["labels_per_issue"].items():
        per.add_row(k, str(n))
    out.print(per)
    hist = Table("words", "issues", title=f"Words per issue (median {st['words_per_issue']['median']:.0f})")
    peak = max(st["words_per_issue"]["counts"] or [1]) or 1
    for b, n in zip(st["words_per_issue"]["bins"], st["words_per_issue"]["counts"]):
        hist.add_row(b, f"{n:>6} " + "█" * round(30 * n / peak))
    out.print(hist)
