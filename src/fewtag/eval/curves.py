"""Figures of a benchmark run: learning curves (book ch. 9) and a confusion matrix.

matplotlib is used with the non-interactive Agg backend, so no display is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["plot_learning_curves", "plot_confusion"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _band(rows: Sequence[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper edge of the band: the interval (NaN where there is none), else min-max."""
    lo_key, hi_key = (key + "_lo", key + "_hi") if all(key + "_lo" in r for r in rows) else (key + "_min", key + "_max")
    lo = np.array([np.nan if r.get(lo_key) is None else r[lo_key] for r in rows], dtype=float)
    hi = np.array([np.nan if r.get(hi_key) is None else r[hi_key] for r in rows], dtype=float)
    return lo, hi


def plot_learning_curves(summary: Sequence[dict[str, Any]], path: str | Path, *, title: str | None = None) -> Path:
    """Micro and macro F1 against training-slice size, one line per method.

    Parameters
    ----------
    summary : rows of :meth:`fewtag.eval.result.BenchResult.summary` -- each with
        ``method``, ``slice_size`` (mean actual size over seeds), ``micro_f1``,
        ``macro_f1`` and their ``_lo`` / ``_hi``: the 95% t-interval of the mean
        over seeds (None for one seed). Rows without ``_lo`` / ``_hi`` keys fall
        back to ``_min`` / ``_max``.
    path : PNG file to write

    Returns
    -------
    Path of the figure. Lines show the mean over seeds, the shaded band the 95%
    interval (no band where there is one seed); the x axis is logarithmic, as in
    the book's figure.
    """
    plt = _pyplot()
    path = Path(path)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    methods = list(dict.fromkeys(r["method"] for r in summary))
    sizes = sorted({r["slice_size"] for r in summary})
    cmap = plt.get_cmap("tab10")
    for ax, key, name in zip(axes, ("micro_f1", "macro_f1"), ("Micro F1", "Macro F1")):
        for i, method in enumerate(methods):
            rows = sorted((r for r in summary if r["method"] == method), key=lambda r: r["slice_size"])
            x = np.array([max(r["slice_size"], 1) for r in rows], dtype=float)
            y = np.array([r[key] for r in rows])
            color = cmap(i % 10)
            ax.plot(x, y, marker="o", markersize=4, color=color, label=method, linestyle="--" if i >= 10 else "-")
            lo, hi = _band(rows, key)
            if np.any(hi > lo):  # NaN (one seed) compares False: no band there
                ax.fill_between(x, lo, hi, where=~np.isnan(lo), color=color, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        if sizes:
            ticks = [max(s, 1) for s in sizes]
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{s:g}" for s in np.round(sizes, 1)])
            ax.minorticks_off()
        ax.set_xlabel("Number of training samples")
        ax.set_title(name)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("F1 score (test; band: 95% interval over seeds)")
    axes[0].set_ylim(bottom=0)
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 + 0.05 * ((len(methods) - 1) // 4), 1, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_confusion(
    matrix: np.ndarray,
    labels: Sequence[str],
    path: str | Path,
    *,
    title: str | None = None,
    pred_labels: Sequence[str] | None = None,
) -> Path:
    """Row-normalised confusion matrix as a heat map, with counts in the cells.

    Parameters
    ----------
    matrix : ndarray of shape (n_true, n_pred), counts; rows = true labels
    labels : names of the rows
    pred_labels : names of the columns (default ``labels``)
    """
    plt = _pyplot()
    path = Path(path)
    matrix = np.asarray(matrix)
    cols = list(pred_labels) if pred_labels is not None else list(labels)
    norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    side = max(4.0, 0.6 * max(len(labels), len(cols)) + 2)
    fig, ax = plt.subplots(figsize=(side + 1, side))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            if matrix[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(matrix[i, j])),
                    ha="center",
                    va="center",
                    color="white" if norm[i, j] > 0.5 else "black",
                    fontsize=8,
                )
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    if title:
        ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
