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

import csv
import html
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from fewtag._version import __version__
from fewtag.eval.curves import plot_confusion, plot_learning_curves
from fewtag.eval.result import PER_LABEL_COLUMNS, RESULT_COLUMNS, SPLITS, BenchResult
from fewtag.eval.settings import RUN_KIND
from fewtag.io import atomic_dir, write_json
from fewtag.metrics import NO_LABEL, confusion_matrix, format_interval, text_losses

__all__ = [
    "write_run",
    "render_markdown",
    "render_html",
    "error_analysis",
    "best_at_largest",
    "best_lines",
    "PEAK_MB_NOTE",
]

PEAK_MB_NOTE = (
    "peak_mb is the peak resident set size (RSS) of the whole bench process while that row "
    "ran (fit, validation tuning and test prediction), sampled every 5 ms from "
    "/proc/self/statm; it includes what the process already held (Python, libraries, data)."
)

Block = tuple[Any, ...]


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


_DIGITS = {
    "val_micro_f1": 6,
    "val_macro_f1": 6,
    "micro_f1": 6,
    "macro_f1": 6,
    "accuracy": 6,
    "train_s": 4,
    "predict_s": 4,
    "peak_mb": 1,
    "precision": 6,
    "recall": 6,
    "f1": 6,
}


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        for r in rows:
            w.writerow([_fmt(r.get(c), _DIGITS.get(c, 6)) for c in columns])


def _ordered_rows(result: BenchResult) -> list[dict[str, Any]]:
    m_order = {m.display: i for i, m in enumerate(result.settings.methods)}
    s_order = {s: i for i, s in enumerate(result.slices_run)}
    return sorted(result.rows, key=lambda r: (m_order.get(r["method"], 0), s_order.get(r["slice"], 0), r["seed"]))


def _ordered_per_label(result: BenchResult) -> list[dict[str, Any]]:
    m_order = {m.display: i for i, m in enumerate(result.settings.methods)}
    s_order = {s: i for i, s in enumerate(result.slices_run)}
    l_order = {lab: i for i, lab in enumerate(result.labels)}
    sp_order = {sp: i for i, sp in enumerate(SPLITS)}
    return sorted(
        result.per_label,
        key=lambda r: (
            m_order.get(r["method"], 0),
            s_order.get(r["slice"], 0),
            r["seed"],
            sp_order.get(r.get("split", "test"), 0),
            l_order.get(r["label"], 0),
        ),
    )


def _stats(entry: dict[str, Any], key: str) -> dict[str, Any]:
    return {
        "mean": entry[key],
        "sd": entry[key + "_sd"],
        "n": entry["n"],
        "lo": entry[key + "_lo"],
        "hi": entry[key + "_hi"],
    }


def _cell(entry: dict[str, Any] | None, key: str, seeds: int) -> str:
    """``mean ± sd [95% interval]`` over seeds; ``mean`` alone for one seed; ``(n=k)`` when seeds failed."""
    if entry is None:
        return "failed"
    if entry[key] is None:
        return ""
    n = entry["n"]
    text = format_interval(_stats(entry, key)) if n > 1 else f"{entry[key]:.3f}"
    return text if n == seeds else f"{text} (n={n})"


def best_at_largest(result: BenchResult) -> tuple[str, str] | None:
    """(method, slice) best by validation at the largest slice (see :meth:`BenchResult.best_at_largest`)."""
    return result.best_at_largest()


def best_lines(result: BenchResult) -> list[str]:
    """One "best by validation" line per slice: the pick, its validation score, its test figures.

    Figures are ``mean ± sd [95% t-interval]`` over seeds, or ``mean (n=1)``.
    """
    lines = []
    for pick in result.best_by_validation():
        e = pick["summary"]
        metric = "macro" if pick["by"] == "val_macro_f1" else "micro"
        lines.append(
            f"best by validation at slice {pick['slice']} (n={e['slice_size']:.0f} texts): "
            f"{pick['method']}, validation {metric} F1 {format_interval(_stats(e, pick['by']))}; "
            f"test micro F1 {format_interval(_stats(e, 'micro_f1'))}, "
            f"macro F1 {format_interval(_stats(e, 'macro_f1'))}"
        )
    return lines


def error_analysis(result: BenchResult, top: int = 50) -> dict[str, Any] | None:
    """Validation texts with the highest loss for the method best by validation at the largest slice (seed 0).

    Returns
    -------
    dict with ``method``, ``slice`` and ``rows`` (rank, id, loss, true, predicted, text), or None.
    """
    best = best_at_largest(result)
    if best is None or best[0] not in result.valid_scores or result.valid is None:
        return None
    method, sl = best
    scores, pred = result.valid_scores[method]
    y = result.valid.y(result.labels)
    losses = text_losses(y, scores, multi_label=result.multi_label)
    order = np.argsort(-losses, kind="stable")[:top]
    rows = []
    for rank, i in enumerate(order, 1):
        rows.append(
            {
                "rank": rank,
                "id": result.valid.ids[i],
                "loss": float(losses[i]),
                "true": "; ".join(result.valid.labels[i]),
                "predicted": "; ".join(result.labels[j] for j in np.flatnonzero(pred[i])),
                "text": " ".join(result.valid.texts[i].split())[:500],
            }
        )
    return {"method": method, "slice": sl, "rows": rows}


ERROR_COLUMNS = ["rank", "id", "loss", "true", "predicted", "text"]


def _blocks(
    result: BenchResult, figures: dict[str, str], confusion: dict[str, Any] | None, errors: dict[str, Any] | None = None
) -> list[Block]:
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


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_markdown(blocks: Sequence[Block]) -> str:
    """Render report blocks as GitHub-flavoured Markdown."""
    lines: list[str] = []
    for block in blocks:
        kind = block[0]
        if kind == "h":
            lines += ["#" * block[1] + " " + block[2], ""]
        elif kind == "p":
            lines += [block[1], ""]
        elif kind == "code":
            lines += ["```", block[1], "```", ""]
        elif kind == "ul":
            lines += [f"- {item}" for item in block[1]] + [""]
        elif kind == "img":
            lines += [f"![{block[1]}]({block[2]})", ""]
        elif kind == "table":
            header, rows = block[1], block[2]
            lines.append("| " + " | ".join(_md_cell(h) for h in header) + " |")
            lines.append("|" + "|".join("---" for _ in header) + "|")
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines)


def render_html(blocks: Sequence[Block]) -> str:
    """Render report blocks as one self-contained HTML page (figures linked)."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>fewtag bench report</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child,th:first-child{text-align:left}"
        "pre{background:#f4f4f4;padding:.6em;overflow-x:auto}img{max-width:100%}</style></head><body>",
    ]
    for block in blocks:
        kind = block[0]
        if kind == "h":
            parts.append(f"<h{block[1]}>{e(block[2])}</h{block[1]}>")
        elif kind == "p":
            text = e(block[1])
            chunks = text.split("`")
            text = "".join(f"<code>{c}</code>" if i % 2 else c for i, c in enumerate(chunks))
            parts.append(f"<p>{text}</p>")
        elif kind == "code":
            parts.append(f"<pre>{e(block[1])}</pre>")
        elif kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{e(str(i))}</li>" for i in block[1]) + "</ul>")
        elif kind == "img":
            parts.append(f"<img alt='{e(block[1])}' src='{e(block[2])}'>")
        elif kind == "table":
            head = "".join(f"<th>{e(str(h))}</th>" for h in block[1])
            body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in block[2])
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _confusion(result: BenchResult) -> dict[str, Any] | None:
    if result.multi_label or result.y_test is None:
        return None
    best = best_at_largest(result)
    if best is None:
        return None
    method, sl = best
    seeds = sorted(seed for (m, s, seed) in result.predictions if m == method and s == sl)
    if not seeds:
        return None
    pred = result.predictions[(method, sl, seeds[0])]
    mat = confusion_matrix(result.y_test, pred)
    columns = list(result.labels)
    if mat[:, -1].sum() == 0:
        mat = mat[:, :-1]
    else:
        columns.append(NO_LABEL)
    return {"method": method, "slice": sl, "seed": seeds[0], "matrix": mat, "columns": columns}


def write_run(result: BenchResult, out: str | Path | None = None) -> Path:
    """Write the run folder (atomically) and return its path.

    Parameters
    ----------
    result : from :func:`fewtag.eval.bench.run_bench`
    out : folder (default ``result.settings.out``)
    """
    target = Path(out if out is not None else result.settings.out)
    with atomic_dir(target, kind="bench") as tmp:
        _write_csv(tmp / "results.csv", RESULT_COLUMNS, _ordered_rows(result))
        _write_csv(tmp / "per_label.csv", PER_LABEL_COLUMNS, _ordered_per_label(result))
        figures: dict[str, str] = {}
        summary = result.summary()
        if summary:
            plot_learning_curves(
                summary,
                tmp / "learning_curves.png",
                title=f"{Path(result.settings.data).name}: test F1 vs training slice",
            )
            figures["learning_curves"] = "learning_curves.png"
        confusion = _confusion(result)
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
            _write_csv(tmp / "error_analysis.csv", ERROR_COLUMNS, errors["rows"])
        blocks = _blocks(result, figures, confusion, errors)
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
