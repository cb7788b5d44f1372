"""Counts that describe a store (``fewtag stats``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from fewtag.data.store import Store

__all__ = ["store_stats", "plot_words_histogram", "WORD_BINS"]

WORD_BINS = [0, 10, 25, 50, 100, 200, 400, 800, 1600, 10**9]


def store_stats(store: Store, repo: str | None = None) -> dict[str, Any]:
    """Items, issues, pull requests, labelled issues, per-label counts (issues only),
    labels-per-issue distribution and a words-per-issue histogram.

    Returns
    -------
    dict
        JSON-able; ``words_per_issue["words"]`` holds the raw counts for plotting.
    """
    n_items = n_prs = 0
    label_counts: Counter[str] = Counter()
    per_issue: Counter[int] = Counter()
    words: list[int] = []
    for item in store.items(repo):
        n_items += 1
        if item.is_pr:
            n_prs += 1
            continue
        label_counts.update(item.labels)
        per_issue[len(item.labels)] += 1
        words.append(len(item.text.split()))
    hist, _ = np.histogram(words, bins=WORD_BINS) if words else (np.zeros(len(WORD_BINS) - 1, int), None)
    n_issues = n_items - n_prs
    return {
        "repos": store.repos() if repo is None else [repo],
        "items": n_items,
        "issues": n_issues,
        "pull_requests": n_prs,
        "labelled_issues": n_issues - per_issue.get(0, 0),
        "labels": dict(sorted(label_counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        "labels_per_issue": {str(k): per_issue[k] for k in sorted(per_issue)},
        "words_per_issue": {
            "bins": [f"{lo}-{hi - 1}" if hi < 10**9 else f"{lo}+" for lo, hi in zip(WORD_BINS, WORD_BINS[1:])],
            "counts": [int(c) for c in hist],
            "median": float(np.median(words)) if words else 0.0,
            "mean": float(np.mean(words)) if words else 0.0,
            "words": words,
        },
    }


def plot_words_histogram(words: list[int], path: str | Path, title: str = "Words per issue") -> Path:
    """The book's words-per-issue histogram (log-spaced bins) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fewtag.io import atomic_file

    fig, ax = plt.subplots(figsize=(7, 4))
    data = np.asarray(words) + 1
    bins = np.logspace(0, np.log10(max(data.max(initial=1), 10)), 40)
    ax.hist(data, bins=bins.tolist(), color="C0", edgecolor="grey")
    ax.set_xscale("log")
    ax.set_xlabel("words (title + body), log scale")
    ax.set_ylabel("issues")
    ax.set_title(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)
    return path
