"""``fewtag train``: fit one method and save the model folder."""

from __future__ import annotations

from pathlib import Path

import typer

from fewtag.cli._app import app, info, out


@app.command("train")
def train_command(
    data: Path = typer.Argument(..., help="A prepared folder or a labelled file."),
    method: str = typer.Option(..., "--method", "-m", help="Method name (see `fewtag methods`)."),
    out_dir: Path = typer.Option(..., "--out", help="Model folder to write."),
    model: str = typer.Option(None, "--model", help="Encoder id or folder, for encoder methods."),
    param: list[str] = typer.Option([], "--param", "-p", help="Method parameter KEY=VALUE (repeatable)."),
    slice_name: str = typer.Option("all", "--slice", help="Training slice (8, 16, ..., all)."),
    seed: int = typer.Option(0, "--seed", help="Random seed (also splits a labelled file)."),
    augment: str = typer.Option(None, "--augment", help="Train on augmented copies too: "
                                "eda|synonym|contextual|backtranslate."),
    n_aug: int = typer.Option(1, "--n-aug", min=1, help="Augmented copies per training text."),
    force: bool = typer.Option(False, "--force", help="Replace --out even if it is not a fewtag model folder."),
) -> None:
    """Train on the training split (or a slice), tune on valid, score test once, save."""
    from fewtag.io import guard_out
    from fewtag.methods.augmented import augmented_spec
    from fewtag.pipeline import constructor_parameters, parse_params, train_model

    params = parse_params(param)
    if augment and model is not None and "model" in constructor_parameters(method):
        params.setdefault("model", model)  # the wrapped method gets the encoder
    label = f"{method} +aug ({augment})" if augment else method
    method, params = augmented_spec(method, params, augment, n_aug)
    with guard_out(out_dir, "model", force=force):  # refuse a foreign --out before training
        info(f"training {label} on {data} (slice {slice_name})")
        tagger, metrics = train_model(data, method, out_dir, params=params, model=model,
                                      slice_name=slice_name, seed=seed)
    scored = f"test micro F1 {metrics['micro_f1']:.3f}, macro F1 {metrics['macro_f1']:.3f}, " \
        if "micro_f1" in metrics else ""
    out.print(f"{out_dir}: {label} on {metrics['train_size']} examples, {scored}"
              f"trained in {metrics['train_s']:.1f} s", highlight=False)


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
