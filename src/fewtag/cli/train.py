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
) -> None:
    """Train on the training split (or a slice), tune on valid, score test once, save."""
    from fewtag.pipeline import parse_params, train_model

    info(f"training {method} on {data} (slice {slice_name})")
    tagger, metrics = train_model(data, method, out_dir, params=parse_params(param), model=model,
                                  slice_name=slice_name, seed=seed)
    scored = f"test micro F1 {metrics['micro_f1']:.3f}, macro F1 {metrics['macro_f1']:.3f}, " \
        if "micro_f1" in metrics else ""
    out.print(f"{out_dir}: {method} on {metrics['train_size']} examples, {scored}"
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
