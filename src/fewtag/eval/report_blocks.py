"""The blocks of a bench report (see :mod:`fewtag.eval.report_render`): data, methods,
best by validation, score tables, time and memory, per-label F1, confusion matrix,
error analysis, notes and failures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fewtag._version import __version__
from fewtag.eval.report_picks import best_lines, stats
from fewtag.eval.report_render import Block
from fewtag.eval.result import BenchResult
from fewtag.metrics import NO_LABEL, format_interval

__all__ = ["report_blocks", "PEAK_MB_NOTE"]

PEAK_MB_NOTE = (
    "peak_mb is the peak resident set size (RSS) of the whole bench process while that row "
    "ran (fit, validation tuning and test prediction), sampled every 5 ms from "
    "/proc/self/statm; it includes what the process already held (Python, libraries, data)."
)


def _cell(entry: dict[str, Any] | None, key: str, seeds: int) -> str:
    """``mean ± sd [95% interval]`` over seeds; ``mean`` alone for one seed; ``(n=k)`` when seeds failed."""
    if entry is None:
        return "failed"
    if entry[key] is None:
        return ""
    n = entry["n"]
    text = format_interval(stats(entry, key)) if n > 1 else f"{entry[key]:.3f}"
    return text if n == seeds else f"{text} (n={n})"


def report_blocks(
    result: BenchResult, figures: dict[str, str], confusion: dict[str, Any] | None, errors: dict[str, Any] | None = None
) -> list[Block]:
    """The report of ``result`` as blocks; ``figures`` maps a figure's name to its file in the run folder."""
    s = result.settings
    d = result.data_summary
    summary = result.summary()
    by = {(r["method"], r["slice"]): r for r in summary}
    methods = [m.display for m in s.methods]
    b: list[Block] = [("h", 1, "fewtag bench report")]
    b.append(("p", f"fewtag {__version__}. Reproduce with:"))
    b.append(("code", s.command_line()))

    b.append(("h", 2, "Data"))
    kind = "multi-label" if d["multi_label"] else "single-label"
    source = " (a labelled file, split in memory with seed 0)" if Path(s.data).is_file() else ""
    b.append(
        (
            "p",
            f"`{s.data}`{source}: {kind}, {len(d['labels'])} labels. Splits: "
            + ", ".join(f"{k} {v}" for k, v in d["sizes"].items())
            + f". Slices for the prepared seed ({d['prepared_seed']}) are the stored ones; other seeds "
            "draw their own nested slices from the same training split. Validation and test are "
            "fixed across seeds.",
        )
    )
    b.append(
        (
            "table",
            ["label", "train", "valid", "test"],
            [
                [lab] + [str(d["label_counts"][sp].get(lab, 0)) for sp in ("train", "valid", "test")]
                for lab in d["labels"]
            ],
        )
    )

    b.append(("h", 2, "Methods"))
    rows = []
    for m in s.methods:
        params = ", ".join(f"{k}={v!r}" for k, v in m.params.items())
        decision = ", ".join(f"{k}={v!r}" for k, v in (m.decision or {}).items())
        rows.append([m.display, m.name, params or "(defaults)", decision or "(default: micro)"])
    b.append(("table", ["row", "method", "params", "decision"], rows))
    b.append(
        (
            "p",
            f"Seeds 0..{s.seeds - 1}; a method with a `random_state` parameter gets the seed"
            + (f"; `--model {s.model}` goes to methods with a `model` parameter" if s.model else "")
            + ". Each run fits on the slice, tunes its decision rule on validation only, scores "
            "validation with the tuned rule (the val_* columns, which choose), and predicts the test split "
            "once. Zero-shot methods are fitted once per seed without "
            "training texts and reported at every slice.",
        )
    )

    header_sizes = {}
    for sl in result.slices_run:
        sizes = [r["slice_size"] for r in summary if r["slice"] == sl]
        header_sizes[sl] = f"{sl} (n={np.mean(sizes):.0f})" if sizes else sl
    b.append(("h", 2, "Best by validation"))
    lines = best_lines(result)
    metric = "macro" if result.objective == "macro" else "micro"
    b.append(
        (
            "p",
            f"Per slice, the method with the best mean validation {metric} F1 over seeds (the "
            "split its decision rule was tuned on; ties go to the other validation F1), with its test "
            "figures beside it. Test scores choose nothing."
            if lines
            else "No validation scores, so no method is chosen (test scores choose nothing).",
        )
    )
    if lines:
        b.append(("ul", lines))
    spread = (
        f"Mean ± sample standard deviation [95% t-interval of the mean] over {s.seeds} seeds; "
        "(n=k) where only k seeds succeeded."
        if s.seeds > 1
        else "One seed (n=1): no standard deviation or interval; run with --seeds 3 or more for them."
    )
    tables = [
        ("micro_f1", "Micro F1 (test)"),
        ("macro_f1", "Macro F1 (test)"),
        ("accuracy", "Subset accuracy (test)" if d["multi_label"] else "Accuracy (test)"),
        ("val_micro_f1", "Micro F1 (validation)"),
        ("val_macro_f1", "Macro F1 (validation)"),
    ]
    for i, (key, title) in enumerate(tables):
        if key.startswith("val_") and all(r[key] is None for r in summary):
            continue
        b.append(("h", 2, title))
        if i == 0:
            b.append(("p", spread))
        trows = [[m] + [_cell(by.get((m, sl)), key, s.seeds) for sl in result.slices_run] for m in methods]
        b.append(("table", ["method"] + [header_sizes[sl] for sl in result.slices_run], trows))
    if "learning_curves" in figures:
        b.append(("h", 2, "Learning curves"))
        b.append(("img", "learning curves", figures["learning_curves"]))
        b.append(
            (
                "p",
                "Test F1, mean over seeds; the shaded band is the 95% t-interval of the mean over "
                "seeds (none for one seed).",
            )
        )

    b.append(("h", 2, "Time and memory"))
    trows = [
        [r["method"], r["slice"], f"{r['train_s']:.3f}", f"{r['predict_s']:.3f}", f"{r['peak_mb']:.0f}"]
        for r in summary
    ]
    b.append(("table", ["method", "slice", "train_s (fit + tuning)", "predict_s (test)", "peak_mb"], trows))
    b.append(
        (
            "p",
            "Means over seeds. " + PEAK_MB_NOTE + " Embeddings are cached in the process (and in "
            "--store): the first encoder method pays for embedding the texts, later ones reuse them. "
            "A zero-shot method's single fit per seed is shown at every slice.",
        )
    )

    largest = result.slices_run[-1] if result.slices_run else None
    if largest is not None:
        b.append(("h", 2, f"Per-label F1 at slice {largest}"))
        support: dict[str, Any] = {}
        f1: dict[tuple[str, str], list[float]] = {}
        for r in result.per_label:
            if r["slice"] == largest and r.get("split", "test") == "test":
                support[r["label"]] = r["support"]
                f1.setdefault((r["method"], r["label"]), []).append(r["f1"])
        show = [m for m in methods if any((m, lab) in f1 for lab in result.labels)]
        prow = [
            [lab, str(support.get(lab, ""))] + [f"{np.mean(f1[(m, lab)]):.3f}" if (m, lab) in f1 else "" for m in show]
            for lab in result.labels
        ]
        b.append(("table", ["label", "test support"] + show, prow))
        b.append(
            ("p", "Test F1, mean over seeds; all rows, validation (split = valid) and test, are in per_label.csv.")
        )

    if confusion is not None:
        b.append(
            (
                "h",
                2,
                f"Confusion matrix: {confusion['method']} at slice {confusion['slice']} (seed {confusion['seed']})",
            )
        )
        cols = confusion["columns"]
        mat = confusion["matrix"]
        b.append(
            (
                "table",
                ["true \\ predicted"] + cols,
                [[lab] + [str(int(v)) for v in mat[i]] for i, lab in enumerate(result.labels)],
            )
        )
        if "confusion_matrix" in figures:
            b.append(("img", "confusion matrix", figures["confusion_matrix"]))

    if errors is not None and errors["rows"]:
        b.append(("h", 2, f"Error analysis: {errors['method']} at slice {errors['slice']} (validation)"))
        b.append(
            (
                "p",
                "The validation texts with the highest loss (book ch. 2), seed 0: often label "
                "noise, ambiguous texts or a missing label. The 50 worst are in error_analysis.csv.",
            )
        )
        b.append(
            (
                "table",
                ["#", "id", "loss", "true", "predicted", "text"],
                [
                    [
                        str(r["rank"]),
                        r["id"],
                        f"{r['loss']:.3f}",
                        r["true"],
                        r["predicted"] or NO_LABEL,
                        r["text"][:140] + ("…" if len(r["text"]) > 140 else ""),
                    ]
                    for r in errors["rows"][:10]
                ],
            )
        )

    b.append(("h", 2, "Skipped slices and notes"))
    b.append(("ul", result.notes or ["none"]))
    b.append(("h", 2, "Failures"))
    failed = [r for r in result.rows if r["status"] != "ok"]
    if failed:
        b.append(
            (
                "table",
                ["method", "slice", "seed", "status"],
                [[r["method"], r["slice"], str(r["seed"]), r["status"]] for r in failed],
            )
        )
    else:
        b.append(("p", "none"))
    return b
