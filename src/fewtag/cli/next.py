"""``fewtag next``: train on what is labelled, pick the next issues worth labelling, write them as a batch file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.table import Table

from fewtag.cli._app import app, fail, info, out


def load_task(labels: str | None, config: Path | None, multi_label: bool, store):
    """The task from ``--labels`` or ``--config`` (exactly one)."""
    from fewtag.active.task import LabelTask

    if (labels is None) == (config is None):
        fail("give the labels with --labels a,b,c or a dataset config with --config dataset.toml (one of them)")
    if config is not None:
        if not config.is_file():
            fail(f"config {config} does not exist")
        return LabelTask.from_config(config, store=store)
    return LabelTask.from_labels(labels or "", multi_label=multi_label)


def store_path(store: str | None, config: Path | None) -> str:
    """``--store``, else the config's ``[data] store``, else ``fewtag.db``; it must exist."""
    from fewtag.data.config import load_config
    from fewtag.data.store import DEFAULT_STORE

    path = store or (load_config(config).store if config is not None and config.is_file() else DEFAULT_STORE)
    if not Path(path).is_file():
        fail(f"store {path} does not exist; run `fewtag import` or `fewtag fetch` first")
    return path


@app.command("next")
def next_command(
    store: str = typer.Option(None, "--store", help="SQLite store file (default: the config's, else fewtag.db)."),
    labels: str = typer.Option(None, "--labels", help="Comma-separated label names, e.g. bug,docs,question."),
    config: Path = typer.Option(None, "--config", help="A dataset.toml ([labels] keep/map/multi_label)."),
    multi_label: bool = typer.Option(False, "--multi-label", help="With --labels: several labels per issue."),
    n: int = typer.Option(20, "--n", help="Issues in the batch."),
    strategy: str = typer.Option("hybrid", "--strategy", help="Query strategy (a bad name lists them)."),
    method: str = typer.Option("tfidf-logreg", "--method", help="Tagging method trained on the labelled issues."),
    param: list[str] = typer.Option([], "--param", help="Method parameter KEY=VALUE (repeatable)."),
    features: str = typer.Option("auto", "--features", help="Diversity vectors: auto | tfidf-svd | encoder."),
    out_file: Path = typer.Option(None, "--out", help="Write the batch to this .csv or .jsonl file."),
    seed: int = typer.Option(0, "--seed"),
    estimate: bool = typer.Option(True, "--estimate/--no-estimate", help="Cross-validate the current model."),
) -> None:
    """Pick the next issues worth labelling; fill the file's labels column and `fewtag import` it."""
    from fewtag.active.batch import write_batch
    from fewtag.active.registry import get_strategy
    from fewtag.active.session import next_batch, record_round, stopping_hint, train_current
    from fewtag.data.store import Store
    from fewtag.metrics import format_interval
    from fewtag.pipeline import parse_params

    get_strategy(strategy)  # a bad name fails before anything loads
    if n < 1:
        fail(f"--n must be a positive integer; got {n}")
    if out_file is not None and out_file.suffix not in (".csv", ".jsonl"):
        fail(f"--out must end in .csv or .jsonl; got {out_file.name}")
    params = parse_params(param)
    path = store_path(store, config)
    with Store(path) as s:
        task = load_task(labels, config, multi_label, s)
        info(f"training {method} on the labelled issues")
        trained = train_current(s, task, method=method, seed=seed, params=params, estimate=estimate)
        batch = next_batch(
            s, task, n=n, strategy=strategy, method=method, seed=seed, trained=trained, params=params, features=features
        )
        history = record_round(s, task, trained)
    counts = ", ".join(f"{k} {v}" for k, v in trained.counts.items())
    summary = trained.summary()
    if trained.tagger is None:
        info(f"{trained.n_labelled} labelled ({counts}): too few for a model, so the batch is a cold start")
    elif summary is not None:
        info(
            f"{trained.n_labelled} labelled ({counts}); cross-validated macro F1 "
            f"{format_interval(summary['macro_f1'])}, micro F1 {format_interval(summary['micro_f1'])}"
            + ("" if len(trained.estimate_labels) == len(task.labels) else " (labels with >= 2 examples)")
        )
    else:
        info(f"{trained.n_labelled} labelled ({counts})")
    hint = stopping_hint([(r["n_labelled"], r["estimate"]) for r in history])
    if hint:
        info(f"stopping hint: {hint}")
    if not batch:
        out.print("nothing left to label: every issue of the task is labelled or skipped", highlight=False)
        return
    repos = {sug.item.repo for sug in batch}
    one_repo = len(repos) == 1
    where = f" of {next(iter(repos))}" if one_repo else ""
    table = Table(title=f"next {len(batch)} issues{where} to label", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("issue", no_wrap=True, min_width=6)
    table.add_column("title", no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column("suggested", no_wrap=True, overflow="ellipsis", max_width=18)
    table.add_column("score", justify="right", no_wrap=True, min_width=5)
    table.add_column("why", no_wrap=True, min_width=10)
    for sug in batch:
        number = sug.item.number if sug.item.number is not None else sug.item.id
        top = max((sug.scores[x] for x in sug.labels), default=max(sug.scores.values(), default=None))
        table.add_row(
            f"#{number}" if one_repo else f"{sug.item.repo}#{number}",
            sug.item.title,
            ", ".join(sug.labels) or "-",
            "" if top is None else f"{top:.2f}",
            sug.reason,
        )
    out.print(table)
    if out_file is not None:
        write_batch(batch, task, out_file)
        out.print(
            f"wrote {out_file}: fill its labels column, then `fewtag import {out_file}"
            + (f" --store {path}`" if path != "fewtag.db" else "`"),
            highlight=False,
        )
