"""``fewtag train``: fit one method and save the model folder."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from fewtag.cli._app import app, fail, info, out, step_progress

#: seconds of training ``fewtag train`` gives a method with a training loop unless told otherwise
DEFAULT_TIME_BUDGET = 240.0


@app.command("train")
def train_command(
    data: Path = typer.Argument(..., help="A prepared folder or a labelled file."),
    method: str = typer.Option(..., "--method", "-m", help="Method name (see `fewtag methods`)."),
    out_dir: Path = typer.Option(..., "--out", help="Model folder to write."),
    model: str = typer.Option(None, "--model", help="Encoder id or folder, for encoder methods."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter KEY=VALUE (repeatable)."),
    slice_name: str = typer.Option("all", "--slice", help="Training slice (8, 16, ..., all)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (also splits a labelled file)."),
    augment: str = typer.Option(
        None, "--augment", help="Train on augmented copies too: eda|synonym|contextual|backtranslate."
    ),
    n_aug: int = typer.Option(1, "--n-aug", min=1, help="Augmented copies per training text."),
    force: bool = typer.Option(False, "--force", help="Replace --out even if it is not a fewtag model folder."),
    objective: str = typer.Option("micro", "--objective", help="Tune the decision rule for micro or macro F1."),
    precision_target: list[str] = typer.Option(
        [],
        "--precision-target",
        help="LABEL=P (repeatable), or one P for every label: the lowest threshold whose tuning precision reaches P.",
    ),
    top_k: int = typer.Option(None, "--top-k", min=1, help="Always keep the K best labels."),
    folds: int = typer.Option(
        5, "--folds", min=2, help="Folds for out-of-fold tuning of a labelled file (fewer when a label is rarer)."
    ),
    holdout: float = typer.Option(
        None, "--holdout", help="Keep this fraction of a labelled file out as a test part, scored once."
    ),
    time_budget: float = typer.Option(
        None,
        "--time-budget",
        help=f"Seconds of body training for setfit, whose schedule is shortened to fit (default "
        f"{DEFAULT_TIME_BUDGET:.0f}; 0: no budget). A labelled file fits setfit twice (a tuning fit, then all rows): "
        "each fit gets half. Measured with the defaults on 300 real issues: 4.1 minutes in all and 2.1 GB "
        "peak memory on 2 quiet cores (the encoding around training is not budgeted).",
    ),
    track: str = typer.Option(
        None, "--track", help="Log to MLflow (fewtag[track]): MLFLOW_TRACKING_URI, else mlruns/ beside --out."
    ),
) -> None:
    """Train a model and save it.

    On a labelled file: fit on ALL rows; the decision rule (and kNN's k, m) is tuned on
    out-of-fold scores of stratified k-fold, and the cross-validated estimate is printed
    and saved in fewtag.json. setfit, finetune, ensemble, self-train and uda tune on one
    validation fold instead (and say so). On a prepared folder: fit the training split
    (or --slice), tune on valid, score test once.
    """
    from fewtag.decision import DecisionSpec
    from fewtag.io import guard_out
    from fewtag.methods.augmented import augmented_spec
    from fewtag.pipeline import parse_params, parse_targets, time_budget_per_fit, train_model
    from fewtag.registry import method_parameters
    from fewtag.track import StepRecorder, check_tracker

    check_tracker(track)
    recorder = StepRecorder()
    params = parse_params(param)
    budgeted = "time_budget" in method_parameters(method)
    if time_budget is not None and (time_budget < 0 or math.isnan(time_budget)):
        fail(f"--time-budget must be a positive number of seconds (0: none), got {time_budget}")
    if time_budget and not budgeted:
        fail(f"--time-budget: {method} has no training loop to budget (setfit has)")
    if budgeted and "time_budget" not in params and time_budget != 0:
        seconds = DEFAULT_TIME_BUDGET if time_budget is None else time_budget
        params["time_budget"] = time_budget_per_fit(method, seconds, prepared=data.is_dir())
    decision = DecisionSpec(objective=objective, precision_target=parse_targets(precision_target), top_k=top_k)
    if augment and model is not None and "model" in method_parameters(method):
        params.setdefault("model", model)  # the wrapped method gets the encoder
    label = f"{method} +aug ({augment})" if augment else method
    method, params = augmented_spec(method, params, augment, n_aug)
    with guard_out(out_dir, "model", force=force):  # refuse a foreign --out before training
        info(f"training {label} on {data}" + (f" (slice {slice_name})" if data.is_dir() else ""))
        with step_progress(), recorder.listening():
            tagger, metrics = train_model(
                data,
                method,
                out_dir,
                params=params,
                model=model,
                slice_name=slice_name,
                seed=seed,
                decision=decision,
                folds=folds,
                holdout=holdout,
                log=info,
            )
    if track:
        from fewtag.track import log_train, tracked

        options = {"method": label, "data": str(data), "seed": seed, "slice": slice_name, "objective": objective}
        options.update({"model": model, "folds": folds, "holdout": holdout, "top_k": top_k, "params": params})
        with tracked(track, out_dir.resolve().parent, "fewtag-train", out_dir.name) as tracker:
            assert tracker is not None
            log_train(tracker, out_dir, options, metrics)
            recorder.replay(tracker)
        info(f"tracked: MLflow run {tracker.run_id} in {tracker.uri}")
    out.print(
        f"{out_dir}: {label} on {metrics['train_size']} examples, trained in {metrics['train_s']:.1f} s "
        f"(tuned on: {metrics['tuning']})",
        highlight=False,
    )
    if "estimate" in metrics:
        from fewtag.metrics import format_interval

        est = metrics["estimate"]
        out.print(
            f"expected quality ({est['strategy']}, mean ± sd [95% interval] over folds): "
            f"micro F1 {format_interval(est['micro_f1'])}, macro F1 {format_interval(est['macro_f1'])}",
            highlight=False,
        )
        out.print("per label F1: " + ", ".join(f"{k} {v:.3f}" for k, v in est["per_label_f1"].items()), highlight=False)
    cal = tagger.calibration()
    if cal is not None:
        from fewtag.calibration import format_reliability

        for line in format_reliability(cal.ece):
            out.print(line, highlight=False)
    if "test_ece_before" in metrics:
        out.print(
            f"test calibration (scored once): ECE {metrics['test_ece_before']:.3f} -> {metrics['test_ece_after']:.3f}",
            highlight=False,
        )
    if "micro_f1" in metrics:
        out.print(
            f"test ({metrics['test_size']} rows, scored once): micro F1 {metrics['micro_f1']:.3f}, "
            f"macro F1 {metrics['macro_f1']:.3f}",
            highlight=False,
        )


@app.command("methods")
def methods_command() -> None:
    """List the registered methods."""
    from fewtag.registry import available_methods, get_method

    for name in available_methods():
        try:
            doc = (get_method(name).__doc__ or "").strip().split("\n")[0]
        except Exception as exc:  # a method whose dependency is missing
            doc = f"(unavailable: {exc})"
        out.print(f"{name:18} {doc}", highlight=False)
