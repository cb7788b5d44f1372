"""``fewtag adapt``: continued pretraining of an encoder on unlabelled texts."""

from __future__ import annotations

from pathlib import Path

import typer

from fewtag.cli._app import app, console, info, out, state


@app.command("adapt")
def adapt_command(
    data: Path = typer.Argument(
        ..., help="A prepared folder (its unsup split) or a .jsonl/.csv/.txt file of texts (labels ignored)."
    ),
    model: str = typer.Option(
        "sentence-transformers/all-MiniLM-L6-v2", "--model", help="Encoder or masked-LM id or folder to start from."
    ),
    out_dir: Path = typer.Option(..., "--out", help="Checkpoint folder to write."),
    steps: int = typer.Option(300, "--steps", help="Optimiser steps."),
    objective: str = typer.Option(
        "auto",
        "--objective",
        help="auto | mlm | tsdae | simcse (auto: mlm when the model has a masked-LM head, else simcse).",
    ),
    batch_size: int = typer.Option(16, "--batch-size"),
    lr: float = typer.Option(None, "--lr", help="Learning rate (default 5e-5 mlm, 3e-5 otherwise)."),
    max_length: int = typer.Option(128, "--max-length", help="Tokens per text."),
    max_texts: int = typer.Option(None, "--max-texts", help="Use at most this many texts."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Adapt MODEL to the texts of DATA; the output is a --model for knn, embed-logreg, setfit, finetune."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from fewtag.adapt import adapt, read_texts

    texts = read_texts(data)
    if max_texts:
        texts = texts[:max_texts]
    info(f"adapting {model} on {len(texts)} texts, {steps} steps")
    show = not state.quiet and console.is_terminal
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not show,
    ) as bar:
        task = bar.add_task("Adapting", total=steps, loss=float("nan"))
        result = adapt(
            texts,
            model,
            out_dir,
            steps=steps,
            objective=objective,
            batch_size=batch_size,
            learning_rate=lr,
            max_length=max_length,
            seed=seed,
            on_step=lambda s, loss: bar.update(task, completed=s, loss=loss),
        )
    first = result.held_out_loss[0][1] if result.held_out_loss else float("nan")
    last = result.held_out_loss[-1][1] if result.held_out_loss else float("nan")
    out.print(
        f"{out_dir}: {result.objective} on {result.n_train} texts, {result.steps} steps in "
        f"{result.seconds:.0f} s; held-out loss {first:.3f} -> {last:.3f} "
        f"(curves: {out_dir / 'loss.png'})",
        highlight=False,
    )
