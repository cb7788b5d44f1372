"""``fewtag index``: build or update the semantic-search index of a store."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from fewtag.cli._app import app, fail, info, out, progress, state
from fewtag.data.store import DEFAULT_STORE


@app.command("index")
def index_cmd(
    store: Path = typer.Option(Path(DEFAULT_STORE), "--store", help="The SQLite store to index."),
    model: str = typer.Option(
        None, "--model", help="Sentence encoder id or folder (default sentence-transformers/all-MiniLM-L6-v2)."
    ),
    comments: bool = typer.Option(False, "--comments", help="Index comment bodies too."),
    ivf: str = typer.Option("auto", "--ivf", help="IVF index: auto (from 20k issues), on, off."),
    prs: bool = typer.Option(False, "--prs", help="Index pull requests too."),
    max_length: int = typer.Option(256, "--max-length", help="Tokens kept per issue."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    engine: str = typer.Option("local", "--engine", help="Embed here (local) or on a Ray actor pool (ray)."),
    address: str = typer.Option(None, "--address", help="Ray cluster to join; default: start Ray locally."),
    workers: int = typer.Option(None, "--workers", min=1, help="Ray actors (default: the cluster's CPUs)."),
) -> None:
    """Build the FAISS index next to the store; a rerun embeds only new or edited issues.

    Vectors are committed to the store batch by batch, so a run that is killed
    is resumed by the next one.
    """
    from fewtag.data.store import Store
    from fewtag.errors import InputError
    from fewtag.search.duplicates import tune_duplicate_threshold
    from fewtag.search.encoder import load_encoder
    from fewtag.search.index import build_index
    from fewtag.search.persist import index_folder

    if not store.is_file():
        raise InputError(f"store {store} does not exist; create it with `fewtag import` or `fewtag fetch`")
    encode_batches = None
    if engine == "ray":
        from fewtag.engine.ray_engine import ray_batches

        encode_batches = ray_batches(model, max_length, address=address, workers=workers, quiet=not state.verbose)
    elif engine != "local" or address is not None or workers is not None:
        fail(f"--engine {engine!r}: local or ray (--address and --workers are for ray)")
    encoder = load_encoder(model, max_length=max_length)
    with Store(store) as db:
        index, report = build_index(
            db,
            encoder,
            comments=comments,
            ivf=ivf,  # type: ignore[arg-type]
            include_prs=prs,
            progress=lambda it, d, n: progress(it, d, total=n),
            encode_batches=encode_batches(encoder) if encode_batches else None,
        )
        dup = tune_duplicate_threshold(db, index)
        index.meta["duplicate"] = dup.to_dict()
        index.save_meta(index_folder(db.path))
    if as_json:
        out.print_json(json.dumps({**report.to_dict(), "duplicate": dup.to_dict()}))
        return
    resumed = f", resumed {report.n_resumed} from an interrupted run" if report.n_resumed else ""
    info(
        f"indexed {report.n_items} issues in {report.path} ({report.kind}; embedded "
        f"{report.n_embedded}, reused {report.n_reused}{resumed}, removed {report.n_removed})"
    )
    if report.kind == "ivf":
        info(f"IVF nlist={report.nlist} nprobe={report.nprobe} recall@10={report.recall_at_10}")
    if dup.threshold is None:
        info("duplicate threshold: not tuned (no issue is labelled 'duplicate')")
    else:
        info(
            f"duplicate threshold {dup.threshold} ({dup.truth}: {dup.n_positive} positives) "
            f"precision {dup.precision} recall {dup.recall} F1 {dup.f1}"
        )
