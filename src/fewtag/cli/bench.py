"""``fewtag bench``: methods x training slices x seeds -> results, learning curves, report."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from fewtag.cli._app import app, fail, info, out, progress, state


@app.command("bench")
def bench_command(
    data: Path = typer.Argument(..., help="A prepared folder (fewtag prepare) or a labelled file."),
    methods: str = typer.Option(
        None,
        "--methods",
        "-m",
        help="Comma-separated method names (or --config labels), e.g. naive-bayes,tfidf-logreg.",
    ),
    slices: str = typer.Option(None, "--slices", help="Training slices, comma-separated (default 8,16,32,64,128,all)."),
    seeds: int = typer.Option(None, "--seeds", help="Number of seeds, run as 0..N-1 (default 1)."),
    out_dir: Path = typer.Option(..., "--out", help="Run folder to write (new, or a previous run)."),
    config: Path = typer.Option(
        None, "--config", help="Bench TOML: method tables (name, label, params), slices, seeds."
    ),
    model: str = typer.Option(None, "--model", help="Model id for methods that take a `model`."),
    store: Path = typer.Option(None, "--store", help="SQLite store used as the embedding cache."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or notes."),
    force: bool = typer.Option(False, "--force", help="Replace --out even if it is not a previous run."),
    track: str = typer.Option(
        None, "--track", help="Log the run to MLflow (fewtag[track]): MLFLOW_TRACKING_URI, else <out>/mlruns."
    ),
) -> None:
    """Run the book's ch. 9 experiment on your data.

    Every method is fitted on each training slice for each seed, its decision
    rule tuned on validation, and the test split scored once. Ends with the
    method best by validation per slice (its test figures beside it). Writes
    results.csv, per_label.csv, learning_curves.png, report.md/.html and
    config.json into the --out folder.
    """
    from fewtag.eval.bench import make_settings, run_bench
    from fewtag.eval.report import best_lines, write_run
    from fewtag.io import allow_replace
    from fewtag.track import StepRecorder, check_tracker

    check_tracker(track)  # a bad --track fails before the bench runs
    if quiet:
        state.quiet = True
    recorder = StepRecorder()
    with (
        allow_replace(out_dir) if force else contextlib.nullcontext(),  # make_settings checks --out
        recorder.listening() if track else contextlib.nullcontext(),
    ):
        settings = make_settings(
            data, out=out_dir, methods=methods, slices=slices, seeds=seeds, config=config, model=model, store=store
        )
        n = len(settings.methods)
        info(f"bench: {n} method(s) x slices {','.join(settings.slices)} x {settings.seeds} seed(s) on {data}")
        result = run_bench(settings, progress=progress, log=info)
        folder = write_run(result)
    if track:
        from fewtag.track import log_bench, tracked

        with tracked(track, folder, "fewtag-bench", folder.name) as tracker:
            assert tracker is not None
            log_bench(tracker, folder, result.rows)
            recorder.replay(tracker)
        info(f"tracked: MLflow run {tracker.run_id} in {tracker.uri}")
    summary = result.summary()
    if summary and not state.quiet:
        largest = result.slices_run[-1]
        for r in summary:
            if r["slice"] == largest:
                out.print(
                    f"{r['method']:24} slice {largest:>4}: micro F1 {r['micro_f1']:.3f}  macro F1 {r['macro_f1']:.3f}",
                    highlight=False,
                )
    failed = sum(r["status"] != "ok" for r in result.rows)
    if not result.all_failed:
        for line in best_lines(result) or ["best by validation: none (no validation scores)"]:
            out.print(line, highlight=False)
    if result.all_failed:
        fail(f"every run failed; see {folder / 'report.md'}")
    out.print(
        f"wrote {folder}/ (report.md, results.csv, learning_curves.png)"
        + (f"; {failed} run(s) failed" if failed else ""),
        highlight=False,
    )
