"""Write a benchmark run folder: CSV tables, figures, a Markdown/HTML report, the settings.

``RUN/``::

    results.csv          one row per method x slice x seed (RESULT_COLUMNS): val_micro_f1 and
                         val_macro_f1 on validation, micro_f1 / macro_f1 / accuracy on test
    per_label.csv        precision / recall / F1 / support per label of each row, for the
                         validation (split = valid) and the test split (split = test)
    learning_curves.png  micro and macro F1 vs training-slice size (log x), mean over seeds with
                         the 95% t-interval as a band
    confusion_matrix.png single-label data only: the method best by validation at the largest slice
    report.md, report.html
    config.json          the run settings, command line and data summary
    error_analysis.csv   validation texts with the highest loss (best method, largest slice)
    errors.log           only when a method crashed with an unexpected exception

The folder is written to a temporary sibling and renamed at the end.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fewtag._version import __version__
from fewtag.eval.curves import plot_confusion, plot_learning_curves
from fewtag.eval.report_blocks import PEAK_MB_NOTE, report_blocks
from fewtag.eval.report_csv import ordered_per_label, ordered_rows, write_csv
from fewtag.eval.report_picks import ERROR_COLUMNS, best_at_largest, best_confusion, best_lines, error_analysis
from fewtag.eval.report_render import render_html, render_markdown
from fewtag.eval.result import PER_LABEL_COLUMNS, RESULT_COLUMNS, BenchResult
from fewtag.eval.settings import RUN_KIND
from fewtag.io import atomic_dir, write_json

__all__ = [
    "write_run",
    "render_markdown",
    "render_html",
    "error_analysis",
    "best_at_largest",
    "best_lines",
    "PEAK_MB_NOTE",
]


def write_run(result: BenchResult, out: str | Path | None = None) -> Path:
    """Write the run folder (atomically) and return its path.

    Parameters
    ----------
    result : from :func:`fewtag.eval.bench.run_bench`
    out : folder (default ``result.settings.out``)
    """
    target = Path(out if out is not None else result.settings.out)
    with atomic_dir(target, kind="bench") as tmp:
        write_csv(tmp / "results.csv", RESULT_COLUMNS, ordered_rows(result))
        write_csv(tmp / "per_label.csv", PER_LABEL_COLUMNS, ordered_per_label(result))
        figures: dict[str, str] = {}
        summary = result.summary()
        if summary:
            plot_learning_curves(
                summary,
                tmp / "learning_curves.png",
                title=f"{Path(result.settings.data).name}: test F1 vs training slice",
            )
            figures["learning_curves"] = "learning_curves.png"
        confusion = best_confusion(result)
        if confusion is not None:
            plot_confusion(
                confusion["matrix"],
                result.labels,
                tmp / "confusion_matrix.png",
                pred_labels=confusion["columns"],
                title=f"{confusion['method']}, slice {confusion['slice']}",
            )
            figures["confusion_matrix"] = "confusion_matrix.png"
        errors = error_analysis(result)
        if errors is not None:
            write_csv(tmp / "error_analysis.csv", ERROR_COLUMNS, errors["rows"])
        blocks = report_blocks(result, figures, confusion, errors)
        (tmp / "report.md").write_text(render_markdown(blocks), encoding="utf-8")
        (tmp / "report.html").write_text(render_html(blocks), encoding="utf-8")
        crashes = [e for e in result.errors if "\n" in e]
        if crashes:
            (tmp / "errors.log").write_text("\n\n".join(crashes), encoding="utf-8")
        write_json(
            tmp / "config.json",
            {
                "kind": RUN_KIND,
                "fewtag_version": __version__,
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "command": result.settings.command_line(),
                "settings": result.settings.to_dict(),
                "objective": result.objective,
                "decision_objectives": {m.display: m.objective for m in result.settings.methods},
                "best_by_validation": [
                    {
                        "slice": p["slice"],
                        "method": p["method"],
                        "by": p["by"],
                        **{
                            k: p["summary"][k]
                            for k in (
                                "n",
                                "val_micro_f1",
                                "val_macro_f1",
                                "micro_f1",
                                "micro_f1_sd",
                                "micro_f1_lo",
                                "micro_f1_hi",
                                "macro_f1",
                                "macro_f1_sd",
                                "macro_f1_lo",
                                "macro_f1_hi",
                            )
                        },
                    }
                    for p in result.best_by_validation()
                ],
                "seeds": list(range(result.settings.seeds)),
                "slices_run": result.slices_run,
                "data": result.data_summary,
                "notes": result.notes,
                "peak_mb": PEAK_MB_NOTE,
                "protocol": "decision rule tuned on validation only; the tuned tagger scored on validation "
                "(val_* columns, which choose the best method) and the test split predicted and "
                "scored once per run; zero-shot methods fitted once per seed and reported at every "
                "slice",
            },
        )
    return target
