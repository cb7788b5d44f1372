"""``fewtag adapt``: continued pretraining of an encoder on unlabelled texts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

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
    steps: int = typer.Option(None, "--steps", help="Optimiser steps, at most (default 100)."),
    time_budget: float = typer.Option(
        None,
        "--time-budget",
        help="Seconds for the whole run: stop before the step that would overrun, save what was learned.",
    ),
    objective: str = typer.Option(
        "auto",
        "--objective",
        help="auto | mlm | tsdae | simcse (auto: mlm when the model has a masked-LM head, else simcse; "
        "mlm on a sentence encoder trains its body under a fresh MLM head).",
    ),
    batch_size: int = typer.Option(None, "--batch-size", help="Texts per step (default 16)."),
    lr: float = typer.Option(None, "--lr", help="Learning rate (default 5e-5 mlm, 3e-5 otherwise)."),
    max_length: int = typer.Option(None, "--max-length", help="Tokens per text (default 64)."),
    max_texts: int = typer.Option(None, "--max-texts", help="Use at most this many texts."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Adapt MODEL to the texts of DATA; the output is a --model for knn, embed-logreg, setfit, finetune.

    Defaults sized for a laptop: simcse, at most 100 steps of 16 texts at 64 tokens. Measured on the
    1,508 huggingface/datasets issues with MiniLM on 2 shared cores (CPU seconds per step on one thread;
    2 idle cores take about 0.6x that): 64 tokens x 16 texts: simcse 2.6, mlm 2.2, tsdae 3.7; 128 tokens
    x 16 texts: simcse 4.6, mlm 5.3. The defaults cost about 4.5 CPU minutes (about 3 minutes on 2 idle
    cores). On cores busy with other jobs, OMP_NUM_THREADS=1 is faster (a step took 4.6x the CPU time
    with 2 threads). --time-budget caps the run whatever the machine.
    """
    from fewtag.adapt import DEFAULT_BATCH_SIZE, DEFAULT_MAX_LENGTH, DEFAULT_STEPS, adapt, check_settings, read_texts
    from fewtag.progress import reporting

    steps = DEFAULT_STEPS if steps is None else steps
    batch_size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    max_length = DEFAULT_MAX_LENGTH if max_length is None else max_length
    check_settings(steps, batch_size, max_length, time_budget)
    texts = read_texts(data)
    if max_texts:
        texts = texts[:max_texts]
    budget = f", time budget {time_budget:g} s" if time_budget is not None else ""
    info(f"adapting {model} on {len(texts)} texts: {steps} steps of {batch_size} texts, {max_length} tokens{budget}")
    with _StepBar(steps) as bar, reporting(bar.listen):
        result = adapt(
            texts,
            model,
            out_dir,
            steps=steps,
            objective=objective,
            batch_size=batch_size,
            learning_rate=lr,
            max_length=max_length,
            time_budget=time_budget,
            seed=seed,
        )
    for note in result.notes:
        info(note)
    first = result.held_out_loss[0][1] if result.held_out_loss else float("nan")
    last = result.held_out_loss[-1][1] if result.held_out_loss else float("nan")
    ran = (
        f"{result.steps} of {result.steps_requested} steps (time budget {result.time_budget:g} s reached)"
        if result.stopped_by == "time budget"
        else f"{result.steps} steps"
    )
    out.print(
        f"{out_dir}: {result.objective} on {result.n_train} texts, {ran} in "
        f"{result.seconds:.0f} s; held-out loss {first:.3f} -> {last:.3f} "
        f"(curves: {out_dir / 'loss.png'})",
        highlight=False,
    )


class _StepBar:
    """A rich bar on stderr: steps done of planned, the loss, the time left (off with --quiet or off a terminal)."""

    def __init__(self, steps: int):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.steps = steps
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.3f}"),
            TextColumn("{task.fields[left]} left"),
            console=console,
            transient=True,
            disable=state.quiet or not console.is_terminal,
        )
        self.task = self.bar.add_task("Adapting", total=steps, loss=float("nan"), left="?")

    def __enter__(self) -> _StepBar:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(None, None, None)

    def listen(self, task: str, done: int, total: int, fields: dict[str, Any]) -> None:
        if task != "adapt":
            return
        secs = float(fields.get("seconds_left", math.nan))
        left = f"{int(secs // 60)}:{int(secs % 60):02d}" if math.isfinite(secs) else "?"
        self.bar.update(self.task, completed=done, total=total, loss=float(fields.get("loss", math.nan)), left=left)
