"""``fewtag distill``: a small student encoder learns a trained teacher, then gets its head."""

from __future__ import annotations

from pathlib import Path

import typer

from fewtag.cli._app import app, info, out, step_progress


@app.command("distill")
def distill_command(
    teacher: str = typer.Argument(
        ..., help="A trained fewtag model folder (setfit, embed-logreg, knn) or an encoder id."
    ),
    data: Path = typer.Argument(..., help="A prepared folder (train, valid, unsup) or a labelled .jsonl/.csv file."),
    out_dir: Path = typer.Option(..., "--out", help="Model folder to write (a setfit model)."),
    student: str = typer.Option(
        "sentence-transformers/all-MiniLM-L6-v2", "--student", help="Sentence encoder to distil into."
    ),
    unlabelled: Path = typer.Option(None, "--unlabelled", help="More texts to distil on (.jsonl/.csv/.txt)."),
    steps: int = typer.Option(
        200,
        "--steps",
        help="Optimiser steps of the student's body; each is one forward+backward pass of --batch-size texts.",
    ),
    batch_size: int = typer.Option(16, "--batch-size", help="Texts per step; every pair inside a batch is used."),
    lr: float = typer.Option(5e-5, "--lr", help="Peak learning rate (AdamW, warm-up then linear decay)."),
    max_length: int = typer.Option(128, "--max-length", help="Tokens per text for the student."),
    time_budget: float = typer.Option(
        None, "--time-budget", help="Seconds for the whole run; training stops when they are spent."
    ),
    head: str = typer.Option(
        "auto", "--head", help="teacher (labelled + teacher-labelled unlabelled texts) | labelled | auto."
    ),
    param: list[str] = typer.Option(
        [], "--param", "-p", help="A setfit parameter of the student's head KEY=VALUE (C, class_weight, ...)."
    ),
    slice_name: str = typer.Option("all", "--slice", help="Training slice of a prepared folder."),
    objective: str = typer.Option("micro", "--objective", help="Tune the decision rule for micro or macro F1."),
    seed: int = typer.Option(0, "--seed"),
    force: bool = typer.Option(False, "--force", help="Replace --out even if it is not a fewtag model folder."),
) -> None:
    """Distil TEACHER into --student on the texts of DATA; the output is a model for `fewtag predict`.

    The student learns to reproduce the teacher's cosine similarities between texts (SetFit's
    distillation) on the labelled and unlabelled texts, then a logistic head is fitted on the
    labelled texts and the teacher's labels for the unlabelled ones. Cost: one teacher pass over the
    texts, then --steps passes of 16 texts through the student (MiniLM, 64 tokens: about 10 s per step
    on 2 cores shared by 6 jobs, a fraction of that on idle cores); --time-budget caps the whole run.
    """
    from fewtag.decision import DecisionSpec
    from fewtag.distill import distill, read_distill_data
    from fewtag.io import guard_out
    from fewtag.pipeline import parse_params

    with guard_out(out_dir, "model", force=force):
        spec = DecisionSpec(objective=objective)
        dataset = read_distill_data(data, unlabelled=unlabelled, slice_name=slice_name)
        info(
            f"distilling {teacher} into {student} on {len(dataset.pool())} texts "
            f"({len(dataset.train)} labelled), {steps} steps" + (f", budget {time_budget:.0f} s" if time_budget else "")
        )
        with step_progress():
            tagger, result = distill(
                teacher,
                dataset,
                out_dir,
                student=student,
                steps=steps,
                batch_size=batch_size,
                learning_rate=lr,
                max_length=max_length,
                time_budget=time_budget,
                head=head,
                head_params=parse_params(param),
                decision=spec,
                seed=seed,
                log=info,
            )
    gap = result.cosine_gap
    out.print(
        f"{out_dir}: {student} distilled from {teacher} in {result.steps} steps"
        + (" (time budget reached)" if result.stopped_early else "")
        + f", {result.seconds['total']:.0f} s; cosine gap to the teacher on {gap['texts']} {gap['on']} texts "
        f"{gap['before']:.4f} -> {gap['after']:.4f}; head on {result.texts['head']} texts ({result.head})",
        highlight=False,
    )
    if result.test:
        out.print(
            f"test ({result.test['size']} rows, scored once): micro F1 {result.test['micro_f1']:.3f}, "
            f"macro F1 {result.test['macro_f1']:.3f}",
            highlight=False,
        )
