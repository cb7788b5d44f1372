"""``fewtag simulate``: replay labelling with gold labels as the annotator, one learning curve per strategy."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import typer
from rich.table import Table

from fewtag.cli._app import app, fail, info, out


def _ints(text: str, name: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        fail(f"{name} takes comma-separated integers, e.g. 8,16,32; got {text!r}")
    if not values:
        fail(f"{name} names no value")
    return values


@app.command("simulate")
def simulate_command(
    data: Path = typer.Argument(..., help="A prepared folder (fewtag prepare) or a labelled file to split."),
    strategies: str = typer.Option(
        "random,breaking-ties,hybrid", "--strategies", help="Comma-separated strategies (random is the baseline)."
    ),
    budgets: str = typer.Option("8,16,32,64,128,256", "--budgets", help="Labelled-set sizes to score at."),
    batch: int = typer.Option(8, "--batch", help="Items labelled per round."),
    method: str = typer.Option("tfidf-logreg", "--method", help="Tagging method retrained every round."),
    param: list[str] = typer.Option([], "--param", help="Method parameter KEY=VALUE (repeatable)."),
    seeds: int = typer.Option(3, "--seeds", help="Runs per strategy (seeds 0..N-1)."),
    pool_size: int = typer.Option(None, "--pool-size", help="Sample this many training items as the pool."),
    eval_size: int = typer.Option(None, "--eval-size", help="Score on at most this many valid / test items."),
    features: str = typer.Option("tfidf-svd", "--features", help="Diversity vectors: tfidf-svd | encoder."),
    title: str = typer.Option(None, "--title", help="Figure and report title (default: the data's name)."),
    out_dir: Path = typer.Option(..., "--out", help="Folder for results.csv, summary.csv/.md and the figures."),
) -> None:
    """Gold labels act as the annotator: results.csv (strategy, budget, seed, F1 on valid and test, seconds
    per round), summary.md and a learning-curve figure per strategy with 95% intervals over seeds."""
    from fewtag.active.sim_report import summarise, write_simulation
    from fewtag.active.simulate import SimulationSettings, simulate
    from fewtag.data.loading import load_data
    from fewtag.metrics import format_interval
    from fewtag.pipeline import parse_params
    from fewtag.registry import create

    if not data.exists():
        fail(f"{data} does not exist")
    if features not in ("tfidf-svd", "encoder"):
        fail(f"--features must be tfidf-svd or encoder; got {features!r}")
    names = [s.strip() for s in strategies.split(",") if s.strip()]
    params = parse_params(param)
    settings = SimulationSettings(
        strategies=names,
        budgets=_ints(budgets, "--budgets"),
        batch=batch,
        method=method,
        seeds=seeds,
        params=params,
        pool_size=pool_size,
        eval_size=eval_size,
    )
    embed = None
    if features == "encoder":
        probe = create(method, params)
        embed = getattr(probe, "_embed", None)
        if embed is None:
            fail(f"method {method!r} has no encoder; use --features tfidf-svd")
    ds = load_data(data)
    info(f"{data}: pool {len(ds.train)} (train), valid {len(ds.valid)}, test {len(ds.test)}, labels {len(ds.labels)}")
    start = time.perf_counter()
    rows = simulate(ds, settings, log=info, embed=embed)
    command = "fewtag simulate " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if len(sys.argv) > 2 else None
    paths = write_simulation(rows, out_dir, title=title or data.name, command=command)
    table = Table("strategy", *[str(b) for b in settings.budgets], title="test macro F1 (mean ± sd [95% interval])")
    summary = summarise(rows)
    for name in names:
        cells = {r["budget"]: format_interval(_stats(r)) for r in summary if r["strategy"] == name}
        table.add_row(name, *[cells.get(b, "") for b in settings.budgets])
    out.print(table)
    out.print(f"{len(rows)} results in {time.perf_counter() - start:.0f} s; wrote {paths['report']}", highlight=False)


def _stats(row: dict) -> dict:
    return {
        "mean": row["macro_f1"],
        "sd": row["macro_f1_sd"],
        "lo": row["macro_f1_lo"],
        "hi": row["macro_f1_hi"],
        "n": row["seeds"],
    }
